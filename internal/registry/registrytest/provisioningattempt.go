package registrytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

func testProvisioningAttempt(t *testing.T, open Opener) {
	ca1, ca2 := certID("ca1"), certID("ca2")
	attempt := func(i int, ca string, d time.Duration) registry.ProvisioningAttempt {
		return registry.ProvisioningAttempt{
			ID: fmt.Sprintf("a%02d", i), At: ms(at(d)), Kind: "JITP", CAID: ca, CertificateID: certID(fmt.Sprint("cert", i%3)),
			ThingName: fmt.Sprint("thing", i), Outcome: registry.AttemptFailed, Step: "render", Reason: "no C", Status: "PENDING_ACTIVATION",
		}
	}
	// Two attempts share each millisecond, so paging must use the id too.
	var all []registry.ProvisioningAttempt
	for i := range 8 {
		ca := ca1
		if i%2 == 1 {
			ca = ca2
		}
		all = append(all, attempt(i, ca, time.Duration(i/2)*time.Millisecond))
	}
	insertAll := func(t *testing.T, s registry.Store) {
		update(t, s, func(ctx context.Context, tx registry.Tx) error {
			for i := range all {
				if err := tx.InsertProvisioningAttempt(ctx, &all[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	newestFirst := func(keep func(registry.ProvisioningAttempt) bool) []registry.ProvisioningAttempt {
		var out []registry.ProvisioningAttempt
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				out = append(out, all[i])
			}
		}
		return out
	}
	list := func(t *testing.T, s registry.Store, f registry.ProvisioningAttemptFilter, size int) []registry.ProvisioningAttempt {
		var out []registry.ProvisioningAttempt
		p := registry.Page{Limit: size}
		for {
			page := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.ProvisioningAttempt, error) {
				return tx.ListProvisioningAttempts(ctx, f, p)
			})
			out = append(out, page...)
			if len(page) < size || size <= 0 {
				return out
			}
			last := page[len(page)-1]
			p.After = registry.CertificateCursor(last.At, last.ID)
		}
	}
	runAll(t, open, []subtest{
		{"round trip, newest first, every page size", func(t *testing.T, s registry.Store) {
			insertAll(t, s)
			want := newestFirst(func(registry.ProvisioningAttempt) bool { return true })
			for _, size := range []int{0, 1, 2, 3, 8, 9} {
				if d := diff(want, list(t, s, registry.ProvisioningAttemptFilter{}, size)); d != "" {
					t.Errorf("page size %d (-want +got):\n%s", size, d)
				}
			}
		}},
		{"filters", func(t *testing.T, s registry.Store) {
			insertAll(t, s)
			byCA := newestFirst(func(a registry.ProvisioningAttempt) bool { return a.CAID == ca2 })
			if d := diff(byCA, list(t, s, registry.ProvisioningAttemptFilter{CAID: ca2}, 2)); d != "" {
				t.Errorf("by CA (-want +got):\n%s", d)
			}
			byCert := newestFirst(func(a registry.ProvisioningAttempt) bool { return a.CertificateID == certID("cert1") })
			if d := diff(byCert, list(t, s, registry.ProvisioningAttemptFilter{CertificateID: certID("cert1")}, 1)); d != "" {
				t.Errorf("by certificate (-want +got):\n%s", d)
			}
			both := newestFirst(func(a registry.ProvisioningAttempt) bool {
				return a.CAID == ca1 && a.CertificateID == certID("cert0")
			})
			if d := diff(both, list(t, s, registry.ProvisioningAttemptFilter{CAID: ca1, CertificateID: certID("cert0")}, 0)); d != "" {
				t.Errorf("by CA and certificate (-want +got):\n%s", d)
			}
		}},
		{"prune", func(t *testing.T, s registry.Store) {
			insertAll(t, s)
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.PruneProvisioningAttempts(ctx, ms(at(2*time.Millisecond)))
			})
			want := newestFirst(func(a registry.ProvisioningAttempt) bool { return !a.At.Before(ms(at(2 * time.Millisecond))) })
			if d := diff(want, list(t, s, registry.ProvisioningAttemptFilter{}, 0)); d != "" {
				t.Errorf("after prune (-want +got):\n%s", d)
			}
		}},
		{"taken id", func(t *testing.T, s registry.Store) {
			insertAll(t, s)
			dup := all[0]
			wantUpdateError(t, s, "inserting a taken id", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertProvisioningAttempt(ctx, &dup)
			})
		}},
	})
}
