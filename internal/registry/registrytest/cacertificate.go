package registrytest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

func newCACertificate(seed, subject string, created time.Time) *registry.CACertificate {
	return &registry.CACertificate{
		ID:               certID(seed),
		PEM:              "-----BEGIN CERTIFICATE-----\n" + seed + "\n-----END CERTIFICATE-----\n",
		SubjectKey:       certID("subject " + subject),
		Status:           iot.StatusActive,
		AutoRegistration: iot.AutoRegistrationEnable,
		Mode:             iot.ModeDefault,
		OwnedBy:          "123456789012",
		CreatedAt:        created,
		UpdatedAt:        created.Add(time.Minute),
		CustomerVersion:  1,
		GenerationID:     "gen-" + seed,
		NotBefore:        created.Add(-time.Hour),
		NotAfter:         created.Add(10 * 365 * 24 * time.Hour),
		Registration: registry.RegistrationConfig{
			TemplateBody: `{"Resources":{}}`,
			RoleARN:      "arn:aws:iam::123456789012:role/JITP",
		},
	}
}

func storedCACertificate(c *registry.CACertificate) *registry.CACertificate {
	s := *c
	s.CreatedAt, s.UpdatedAt = ms(s.CreatedAt), ms(s.UpdatedAt)
	s.NotBefore, s.NotAfter = ms(s.NotBefore), ms(s.NotAfter)
	return &s
}

func getCACertificate(t *testing.T, s registry.Store, id string) (*registry.CACertificate, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.CACertificate, error) {
		return tx.CACertificate(ctx, id)
	})
}

func insertCACertificates(t *testing.T, s registry.Store, certs ...*registry.CACertificate) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, c := range certs {
			if err := tx.InsertCACertificate(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

func caCertificateCursor(c registry.CACertificate) string {
	return registry.CertificateCursor(c.CreatedAt, c.ID)
}

func testCACertificate(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getCACertificate(t, s, certID("nope"))
			wantNotFound(t, "CACertificate", err)
			wantUpdateNotFound(t, s, "UpdateCACertificate", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateCACertificate(ctx, newCACertificate("nope", "s", at(0)))
			})
			wantUpdateNotFound(t, s, "DeleteCACertificate", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteCACertificate(ctx, certID("nope"))
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newCACertificate("full", "s", at(0))
			full.Registration.TemplateName = "template-1"
			full.Mode, full.Status, full.AutoRegistration = iot.ModeSNIOnly, iot.StatusInactive, iot.AutoRegistrationDisable
			bare := &registry.CACertificate{ID: certID("bare"), PEM: "pem", SubjectKey: "k", Status: iot.StatusActive}
			insertCACertificates(t, s, full, bare)
			for _, want := range []*registry.CACertificate{storedCACertificate(full), storedCACertificate(bare)} {
				got, err := getCACertificate(t, s, want.ID)
				if err != nil {
					t.Fatalf("CACertificate(%s): %v", want.ID, err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("CACertificate(%s) (-want +got):\n%s", want.ID, d)
				}
			}
		}},
		{"insert taken id", func(t *testing.T, s registry.Store) {
			insertCACertificates(t, s, newCACertificate("c1", "s", at(0)))
			wantUpdateError(t, s, "InsertCACertificate of a taken id", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertCACertificate(ctx, newCACertificate("c1", "other", at(time.Hour)))
			})
			want := storedCACertificate(newCACertificate("c1", "s", at(0)))
			if got, _ := getCACertificate(t, s, want.ID); !cmp.Equal(want, got) {
				t.Errorf("CA certificate after a failed insert (-want +got):\n%s", cmp.Diff(want, got))
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertCACertificates(t, s, newCACertificate("c1", "s", at(0)), newCACertificate("c2", "s", at(0)))
			changed := newCACertificate("c1", "s", at(0))
			changed.Status, changed.AutoRegistration = iot.StatusInactive, iot.AutoRegistrationDisable
			changed.Registration = registry.RegistrationConfig{TemplateName: "tpl"}
			changed.UpdatedAt, changed.CustomerVersion = at(time.Hour), 2
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateCACertificate(ctx, changed) })
			if got, _ := getCACertificate(t, s, changed.ID); !cmp.Equal(storedCACertificate(changed), got) {
				t.Errorf("CA certificate after update (-want +got):\n%s", cmp.Diff(storedCACertificate(changed), got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteCACertificate(ctx, changed.ID) })
			_, err := getCACertificate(t, s, changed.ID)
			wantNotFound(t, "deleted CA certificate", err)
			if _, err := getCACertificate(t, s, certID("c2")); err != nil {
				t.Errorf("the other CA certificate: %v", err)
			}
		}},
		{"list pages and filters", func(t *testing.T, s registry.Store) {
			var all []registry.CACertificate
			for i, created := range certificateTimes {
				for j, tpl := range []string{"tpl-a", "tpl-b", ""} {
					c := newCACertificate(string(rune('a'+i))+string(rune('0'+j)), "s", created)
					c.Registration.TemplateName = tpl
					insertCACertificates(t, s, c)
					all = append(all, *storedCACertificate(c))
				}
			}
			for _, tpl := range []string{"", "tpl-a", "tpl-b", "nope"} {
				for _, ascending := range []bool{true, false} {
					var want []registry.CACertificate
					for _, c := range all {
						if tpl == "" || c.Registration.TemplateName == tpl {
							want = append(want, c)
						}
					}
					sortByCursor(want, caCertificateCursor, ascending)
					f := registry.CACertificateFilter{TemplateName: tpl, Ascending: ascending}
					t.Run(filterName(tpl, ascending), func(t *testing.T) {
						checkPages(t, s, want, caCertificateCursor, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.CACertificate, error) {
							return tx.ListCACertificates(ctx, f, p)
						})
					})
				}
			}
		}},
		{"list with a bad cursor", func(t *testing.T, s registry.Store) {
			insertCACertificates(t, s, newCACertificate("c1", "s", at(0)))
			_, err := get(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.CACertificate, error) {
				return tx.ListCACertificates(ctx, registry.CACertificateFilter{}, registry.Page{After: "not a cursor", Limit: 10})
			})
			wantError(t, "ListCACertificates after a malformed cursor", err)
		}},
		{"by subject", func(t *testing.T, s registry.Store) {
			a1, a2 := newCACertificate("a1", "a", at(0)), newCACertificate("a2", "a", at(time.Hour))
			b1 := newCACertificate("b1", "b", at(0))
			insertCACertificates(t, s, a1, a2, b1)
			tests := []struct {
				name    string
				subject string
				want    []registry.CACertificate
			}{
				{"two", a1.SubjectKey, []registry.CACertificate{*storedCACertificate(a1), *storedCACertificate(a2)}},
				{"one", b1.SubjectKey, []registry.CACertificate{*storedCACertificate(b1)}},
				{"none", certID("subject c"), nil},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.CACertificate, error) {
						return tx.CACertificatesBySubject(ctx, tc.subject)
					})
					sortByID := cmpopts.SortSlices(func(a, b registry.CACertificate) bool { return a.ID < b.ID })
					if d := diff(tc.want, got, sortByID); d != "" {
						t.Errorf("CACertificatesBySubject (-want +got):\n%s", d)
					}
				})
			}
		}},
	})
}
