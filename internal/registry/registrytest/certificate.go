package registrytest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

func newCertificate(seed, caID string, created time.Time) *registry.Certificate {
	return &registry.Certificate{
		ID:              certID(seed),
		PEM:             "-----BEGIN CERTIFICATE-----\n" + seed + "\n-----END CERTIFICATE-----\n",
		CAID:            caID,
		Status:          iot.StatusActive,
		Mode:            iot.ModeDefault,
		OwnedBy:         "123456789012",
		CreatedAt:       created,
		UpdatedAt:       created.Add(time.Second),
		CustomerVersion: 1,
		GenerationID:    "gen-" + seed,
		NotBefore:       created.Add(-24 * time.Hour),
		NotAfter:        created.Add(365 * 24 * time.Hour),
	}
}

func storedCertificate(c *registry.Certificate) *registry.Certificate {
	s := *c
	s.CreatedAt, s.UpdatedAt = ms(s.CreatedAt), ms(s.UpdatedAt)
	s.NotBefore, s.NotAfter = ms(s.NotBefore), ms(s.NotAfter)
	return &s
}

func getCertificate(t *testing.T, s registry.Store, id string) (*registry.Certificate, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Certificate, error) {
		return tx.Certificate(ctx, id)
	})
}

func insertCertificates(t *testing.T, s registry.Store, certs ...*registry.Certificate) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, c := range certs {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

func certificateCursor(c registry.Certificate) string {
	return registry.CertificateCursor(c.CreatedAt, c.ID)
}

// certificateTimes are creation times that exercise the cursor: several share
// a millisecond (so the id breaks the tie) and differ below it.
var certificateTimes = []time.Time{
	at(0), at(time.Microsecond), at(999 * time.Microsecond), at(time.Millisecond),
	at(time.Second), at(time.Second + 300*time.Microsecond), at(-time.Hour), at(48 * time.Hour),
}

// sortByCursor sorts rows by their cursor, ascending or descending.
func sortByCursor[T any](rows []T, cursor func(T) string, ascending bool) {
	slices.SortFunc(rows, func(a, b T) int {
		if ascending {
			return strings.Compare(cursor(a), cursor(b))
		}
		return strings.Compare(cursor(b), cursor(a))
	})
}

func testCertificate(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getCertificate(t, s, certID("nope"))
			wantNotFound(t, "Certificate", err)
			wantUpdateNotFound(t, s, "UpdateCertificate", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateCertificate(ctx, newCertificate("nope", "", at(0)))
			})
			wantUpdateNotFound(t, s, "DeleteCertificate", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteCertificate(ctx, certID("nope"))
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newCertificate("full", certID("ca"), at(0))
			full.Status, full.Mode, full.CustomerVersion = iot.StatusPendingActivation, iot.ModeSNIOnly, 3
			full.ProvisioningClaim = "fleet-template"
			bare := &registry.Certificate{ID: certID("bare"), PEM: "pem", Status: iot.StatusInactive}
			insertCertificates(t, s, full, bare)
			for _, want := range []*registry.Certificate{storedCertificate(full), storedCertificate(bare)} {
				got, err := getCertificate(t, s, want.ID)
				if err != nil {
					t.Fatalf("Certificate(%s): %v", want.ID, err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("Certificate(%s) (-want +got):\n%s", want.ID, d)
				}
			}
		}},
		{"insert taken id", func(t *testing.T, s registry.Store) {
			insertCertificates(t, s, newCertificate("c1", "", at(0)))
			other := newCertificate("c1", "ca", at(time.Hour))
			wantUpdateError(t, s, "InsertCertificate of a taken id", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertCertificate(ctx, other)
			})
			want := storedCertificate(newCertificate("c1", "", at(0)))
			if got, _ := getCertificate(t, s, want.ID); !cmp.Equal(want, got) {
				t.Errorf("certificate after a failed insert (-want +got):\n%s", cmp.Diff(want, got))
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertCertificates(t, s, newCertificate("c1", "", at(0)), newCertificate("c2", "", at(0)))
			changed := newCertificate("c1", certID("ca"), at(0))
			changed.Status, changed.UpdatedAt, changed.CustomerVersion = iot.StatusRevoked, at(time.Hour), 2
			changed.GenerationID = "gen-2"
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateCertificate(ctx, changed) })
			if got, _ := getCertificate(t, s, changed.ID); !cmp.Equal(storedCertificate(changed), got) {
				t.Errorf("certificate after update (-want +got):\n%s", cmp.Diff(storedCertificate(changed), got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteCertificate(ctx, changed.ID) })
			_, err := getCertificate(t, s, changed.ID)
			wantNotFound(t, "deleted certificate", err)
			if _, err := getCertificate(t, s, certID("c2")); err != nil {
				t.Errorf("the other certificate: %v", err)
			}
		}},
		{"list pages and filters", func(t *testing.T, s registry.Store) {
			caA, caB := certID("ca-a"), certID("ca-b")
			var all []registry.Certificate
			for i, created := range certificateTimes {
				for j, ca := range []string{caA, caB, ""} {
					c := newCertificate(string(rune('a'+i))+string(rune('0'+j)), ca, created)
					insertCertificates(t, s, c)
					all = append(all, *storedCertificate(c))
				}
			}
			for _, ca := range []string{"", caA, caB, certID("nope")} {
				for _, ascending := range []bool{true, false} {
					var want []registry.Certificate
					for _, c := range all {
						if ca == "" || c.CAID == ca {
							want = append(want, c)
						}
					}
					sortByCursor(want, certificateCursor, ascending)
					f := registry.CertificateFilter{CAID: ca, Ascending: ascending}
					t.Run(filterName(ca, ascending), func(t *testing.T) {
						checkPages(t, s, want, certificateCursor, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Certificate, error) {
							return tx.ListCertificates(ctx, f, p)
						})
					})
				}
			}
		}},
		{"list without provisioning claims", func(t *testing.T, s registry.Store) {
			var all, withoutClaims []registry.Certificate
			for i, created := range certificateTimes {
				c := newCertificate(string(rune('a'+i)), "", created)
				if i%3 == 1 {
					c.ProvisioningClaim = "fleet"
				} else {
					withoutClaims = append(withoutClaims, *storedCertificate(c))
				}
				insertCertificates(t, s, c)
				all = append(all, *storedCertificate(c))
			}
			for _, tc := range []struct {
				f    registry.CertificateFilter
				want []registry.Certificate
			}{
				{registry.CertificateFilter{Ascending: true}, all},
				{registry.CertificateFilter{Ascending: true, WithoutClaims: true}, withoutClaims},
			} {
				want := slices.Clone(tc.want)
				sortByCursor(want, certificateCursor, true)
				checkPages(t, s, want, certificateCursor, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Certificate, error) {
					return tx.ListCertificates(ctx, tc.f, p)
				})
			}
		}},
		{"list with a bad cursor", func(t *testing.T, s registry.Store) {
			insertCertificates(t, s, newCertificate("c1", "", at(0)))
			_, err := get(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.Certificate, error) {
				return tx.ListCertificates(ctx, registry.CertificateFilter{}, registry.Page{After: "not a cursor", Limit: 10})
			})
			wantError(t, "ListCertificates after a malformed cursor", err)
		}},
		{"count of CA", func(t *testing.T, s registry.Store) {
			insertCertificates(t, s,
				newCertificate("c1", "ca1", at(0)), newCertificate("c2", "ca1", at(0)),
				newCertificate("c3", "ca2", at(0)), newCertificate("c4", "", at(0)))
			for ca, want := range map[string]int{"ca1": 2, "ca2": 1, "ca3": 0} {
				got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) (int, error) {
					return tx.CountCertificatesOfCA(ctx, ca)
				})
				if got != want {
					t.Errorf("CountCertificatesOfCA(%q): got %d, want %d", ca, got, want)
				}
			}
		}},
	})
}

func filterName(key string, ascending bool) string {
	name := "all"
	if key != "" {
		name = key[:min(8, len(key))]
	}
	if ascending {
		return name + " ascending"
	}
	return name + " descending"
}
