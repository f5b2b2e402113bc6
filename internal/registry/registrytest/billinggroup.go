package registrytest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func newBillingGroup(name string) *registry.BillingGroup {
	return &registry.BillingGroup{
		Name:        name,
		ID:          "id-" + name,
		Description: "the billing group " + name,
		Version:     1,
		CreatedAt:   at(5 * time.Minute),
	}
}

func storedBillingGroup(g *registry.BillingGroup) *registry.BillingGroup {
	c := *g
	c.CreatedAt = ms(c.CreatedAt)
	return &c
}

func getBillingGroup(t *testing.T, s registry.Store, name string) (*registry.BillingGroup, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.BillingGroup, error) {
		return tx.BillingGroup(ctx, name)
	})
}

func insertBillingGroups(t *testing.T, s registry.Store, groups ...*registry.BillingGroup) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, g := range groups {
			if err := tx.InsertBillingGroup(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

func billingGroupName(g registry.BillingGroup) string { return g.Name }

func listBillingGroupNames(t *testing.T, s registry.Store, prefix string) []string {
	t.Helper()
	got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.BillingGroup, error) {
		return tx.ListBillingGroups(ctx, prefix, registry.Page{Limit: 100})
	})
	return keys(got, billingGroupName)
}

func listBillingGroupMembers(t *testing.T, s registry.Store, group string) []string {
	t.Helper()
	return mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]string, error) {
		return tx.ListThingsInBillingGroup(ctx, group, registry.Page{Limit: 100})
	})
}

func testBillingGroup(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getBillingGroup(t, s, "nope")
			wantNotFound(t, "BillingGroup", err)
			wantUpdateNotFound(t, s, "UpdateBillingGroup", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateBillingGroup(ctx, newBillingGroup("nope"))
			})
			wantUpdateNotFound(t, s, "DeleteBillingGroup", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteBillingGroup(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newBillingGroup("full")
			bare := &registry.BillingGroup{Name: "bare", ID: "id-bare", Version: 7}
			insertBillingGroups(t, s, full, bare)
			for _, want := range []*registry.BillingGroup{storedBillingGroup(full), storedBillingGroup(bare)} {
				got, err := getBillingGroup(t, s, want.Name)
				if err != nil {
					t.Fatalf("BillingGroup(%q): %v", want.Name, err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("BillingGroup(%q) (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertBillingGroups(t, s, newBillingGroup("g1"))
			other := newBillingGroup("g1")
			other.Description, other.ID = "another", "id-other"
			wantUpdateError(t, s, "InsertBillingGroup of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertBillingGroup(ctx, other)
			})
			want := storedBillingGroup(newBillingGroup("g1"))
			if got, _ := getBillingGroup(t, s, "g1"); !cmp.Equal(want, got) {
				t.Errorf("billing group after a failed insert (-want +got):\n%s", cmp.Diff(want, got))
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertBillingGroups(t, s, newBillingGroup("g1"), newBillingGroup("g2"))
			changed := newBillingGroup("g1")
			changed.Description, changed.Version, changed.CreatedAt = "", 5, at(time.Hour)
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateBillingGroup(ctx, changed) })
			if got, _ := getBillingGroup(t, s, "g1"); !cmp.Equal(storedBillingGroup(changed), got) {
				t.Errorf("billing group after update (-want +got):\n%s", cmp.Diff(storedBillingGroup(changed), got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteBillingGroup(ctx, "g1") })
			_, err := getBillingGroup(t, s, "g1")
			wantNotFound(t, "deleted billing group", err)
			if _, err := getBillingGroup(t, s, "g2"); err != nil {
				t.Errorf("the other billing group: %v", err)
			}
		}},
		{"list prefix", func(t *testing.T, s registry.Store) {
			for _, name := range []string{"plant", "plant-a", "plant-b", "Plant-x", "pl_nt", "other"} {
				insertBillingGroups(t, s, newBillingGroup(name))
			}
			tests := []struct {
				prefix string
				want   []string
			}{
				{"", []string{"Plant-x", "other", "pl_nt", "plant", "plant-a", "plant-b"}},
				{"plant", []string{"plant", "plant-a", "plant-b"}},
				{"plant-", []string{"plant-a", "plant-b"}},
				{"Plant", []string{"Plant-x"}},
				{"pl_", []string{"pl_nt"}},
				{"plants", nil},
			}
			for _, tc := range tests {
				if d := diff(tc.want, listBillingGroupNames(t, s, tc.prefix)); d != "" {
					t.Errorf("ListBillingGroups(prefix %q) (-want +got):\n%s", tc.prefix, d)
				}
			}
			got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.BillingGroup, error) {
				return tx.ListBillingGroups(ctx, "other", registry.Page{Limit: 100})
			})
			if d := diff([]registry.BillingGroup{*storedBillingGroup(newBillingGroup("other"))}, got); d != "" {
				t.Errorf("ListBillingGroups rows (-want +got):\n%s", d)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []registry.BillingGroup
			for _, name := range sortedNames {
				g := newBillingGroup(name)
				insertBillingGroups(t, s, g)
				want = append(want, *storedBillingGroup(g))
			}
			checkPages(t, s, want, billingGroupName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.BillingGroup, error) {
				return tx.ListBillingGroups(ctx, "", p)
			})
			checkPages(t, s, want[4:9], billingGroupName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.BillingGroup, error) {
				return tx.ListBillingGroups(ctx, "a", p) // a, a-1, a0, a:1, a_1
			})
		}},
	})
}

func testBillingGroupMembership(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"set thing billing group", func(t *testing.T, s registry.Store) {
			bare := newThing("t1")
			bare.BillingGroupName = ""
			insertThings(t, s, bare)
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.SetThingBillingGroup(ctx, "t1", "g1") })
			want := stored(bare)
			want.BillingGroupName = "g1"
			if got, _ := getThing(t, s, "t1"); !cmp.Equal(want, got) {
				t.Errorf("thing after SetThingBillingGroup changed only its billing group (-want +got):\n%s", cmp.Diff(want, got))
			}
			if d := diff([]string{"t1"}, listBillingGroupMembers(t, s, "g1")); d != "" {
				t.Errorf("members of g1 (-want +got):\n%s", d)
			}
			// Moving the thing leaves the old group.
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.SetThingBillingGroup(ctx, "t1", "g2") })
			if got := listBillingGroupMembers(t, s, "g1"); len(got) != 0 {
				t.Errorf("members of g1 after the move: %v, want none", got)
			}
			if d := diff([]string{"t1"}, listBillingGroupMembers(t, s, "g2")); d != "" {
				t.Errorf("members of g2 after the move (-want +got):\n%s", d)
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.SetThingBillingGroup(ctx, "t1", "") })
			if got, _ := getThing(t, s, "t1"); got == nil || got.BillingGroupName != "" {
				t.Errorf("thing after leaving its billing group: %+v, want BillingGroupName \"\"", got)
			}
			wantUpdateNotFound(t, s, "SetThingBillingGroup of a missing thing", func(ctx context.Context, tx registry.Tx) error {
				return tx.SetThingBillingGroup(ctx, "nope", "g1")
			})
		}},
		{"inserted and deleted things", func(t *testing.T, s registry.Store) {
			insertThings(t, s, newThing("t1"), newThing("t2")) // both in "billing"
			if d := diff([]string{"t1", "t2"}, listBillingGroupMembers(t, s, "billing")); d != "" {
				t.Errorf("members after inserting things (-want +got):\n%s", d)
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteThing(ctx, "t1") })
			if d := diff([]string{"t2"}, listBillingGroupMembers(t, s, "billing")); d != "" {
				t.Errorf("members after deleting t1 (-want +got):\n%s", d)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			for _, name := range sortedNames {
				th := newThing(name)
				th.BillingGroupName = "g1"
				insertThings(t, s, th)
			}
			other := newThing("other")
			other.BillingGroupName = "g2"
			insertThings(t, s, other)
			checkPages(t, s, sortedNames, ident, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListThingsInBillingGroup(ctx, "g1", p)
			})
			checkPages(t, s, nil, ident, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListThingsInBillingGroup(ctx, "nope", p)
			})
		}},
	})
}
