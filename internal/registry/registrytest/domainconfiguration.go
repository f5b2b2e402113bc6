package registrytest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func newDomainConfiguration(name string) *registry.DomainConfiguration {
	return &registry.DomainConfiguration{
		Name: name, ID: "AbCdE", DomainName: name + ".example.com",
		DomainType: registry.DomainTypeCustomerManaged, ServiceType: "DATA", Status: registry.DomainEnabled,
		DomainSettings: registry.DomainSettings{
			ServerCertificateArns:   []string{"arn:aws:acm:us-east-1:123456789012:certificate/abc"},
			AuthorizerConfig:        `{"defaultAuthorizerName":"a","allowAuthorizerOverride":true}`,
			TLSSecurityPolicy:       registry.DefaultTLSSecurityPolicy,
			ServerCertificateConfig: `{"enableOCSPCheck":false}`,
			AuthenticationType:      "DEFAULT", ApplicationProtocol: "DEFAULT",
		},
		CreatedAt: at(time.Minute), StatusChangedAt: at(2 * time.Minute),
	}
}

func storedDomainConfiguration(d *registry.DomainConfiguration) *registry.DomainConfiguration {
	c := *d
	c.ServerCertificateArns = slices.Clone(d.ServerCertificateArns)
	c.CreatedAt, c.StatusChangedAt = ms(c.CreatedAt), ms(c.StatusChangedAt)
	return &c
}

func getDomainConfiguration(t *testing.T, s registry.Store, name string) (*registry.DomainConfiguration, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.DomainConfiguration, error) {
		return tx.DomainConfiguration(ctx, name)
	})
}

func insertDomainConfigurations(t *testing.T, s registry.Store, ds ...*registry.DomainConfiguration) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, d := range ds {
			if err := tx.InsertDomainConfiguration(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

func testDomainConfiguration(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getDomainConfiguration(t, s, "nope")
			wantNotFound(t, "DomainConfiguration", err)
			wantUpdateNotFound(t, s, "UpdateDomainConfiguration", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateDomainConfiguration(ctx, newDomainConfiguration("nope"))
			})
			wantUpdateNotFound(t, s, "DeleteDomainConfiguration", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteDomainConfiguration(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newDomainConfiguration("full")
			bare := &registry.DomainConfiguration{Name: "iot:Data-ATS", DomainType: registry.DomainTypeEndpoint,
				ServiceType: "DATA", Status: registry.DomainDisabled, CreatedAt: at(0), StatusChangedAt: at(0)}
			insertDomainConfigurations(t, s, full, bare)
			for _, want := range []*registry.DomainConfiguration{storedDomainConfiguration(full), storedDomainConfiguration(bare)} {
				got, err := getDomainConfiguration(t, s, want.Name)
				if err != nil {
					t.Fatalf("DomainConfiguration(%q): %v", want.Name, err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("DomainConfiguration(%q) (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertDomainConfigurations(t, s, newDomainConfiguration("d1"))
			other := newDomainConfiguration("d1")
			other.DomainName = "other.example.com"
			wantUpdateError(t, s, "InsertDomainConfiguration of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertDomainConfiguration(ctx, other)
			})
			if got, _ := getDomainConfiguration(t, s, "d1"); !cmp.Equal(storedDomainConfiguration(newDomainConfiguration("d1")), got) {
				t.Errorf("domain configuration after a failed insert: %+v", got)
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertDomainConfigurations(t, s, newDomainConfiguration("d1"), newDomainConfiguration("d2"))
			changed := newDomainConfiguration("d1")
			changed.Status, changed.StatusChangedAt = registry.DomainDisabled, at(time.Hour)
			changed.AuthorizerConfig, changed.TLSSecurityPolicy = "", "IoTSecurityPolicy_TLS13_1_3_2022_10"
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateDomainConfiguration(ctx, changed) })
			if got, _ := getDomainConfiguration(t, s, "d1"); !cmp.Equal(storedDomainConfiguration(changed), got) {
				t.Errorf("domain configuration after update (-want +got):\n%s", cmp.Diff(storedDomainConfiguration(changed), got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteDomainConfiguration(ctx, "d1") })
			_, err := getDomainConfiguration(t, s, "d1")
			wantNotFound(t, "deleted domain configuration", err)
			if _, err := getDomainConfiguration(t, s, "d2"); err != nil {
				t.Errorf("the other domain configuration: %v", err)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []registry.DomainConfiguration
			for _, name := range slices.Backward(sortedNames) {
				insertDomainConfigurations(t, s, newDomainConfiguration(name))
			}
			for _, name := range sortedNames {
				want = append(want, *storedDomainConfiguration(newDomainConfiguration(name)))
			}
			checkPages(t, s, want, func(d registry.DomainConfiguration) string { return d.Name },
				func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.DomainConfiguration, error) {
					return tx.ListDomainConfigurations(ctx, p)
				})
		}},
	})
}
