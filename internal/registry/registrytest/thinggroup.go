package registrytest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func newThingGroup(name, parent string) *registry.ThingGroup {
	return &registry.ThingGroup{
		Name:        name,
		ID:          "id-" + name,
		ParentName:  parent,
		Description: "the group " + name,
		Attributes:  map[string]string{"site": "plant-1", "line": name},
		Version:     1,
		CreatedAt:   at(3 * time.Minute),
	}
}

func storedThingGroup(g *registry.ThingGroup) *registry.ThingGroup {
	c := *g
	c.Attributes = map[string]string{}
	maps.Copy(c.Attributes, g.Attributes)
	c.CreatedAt = ms(c.CreatedAt)
	return &c
}

func getThingGroup(t *testing.T, s registry.Store, name string) (*registry.ThingGroup, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.ThingGroup, error) {
		return tx.ThingGroup(ctx, name)
	})
}

func insertThingGroups(t *testing.T, s registry.Store, groups ...*registry.ThingGroup) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, g := range groups {
			if err := tx.InsertThingGroup(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

func groupName(g registry.ThingGroup) string { return g.Name }

func testThingGroup(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getThingGroup(t, s, "nope")
			wantNotFound(t, "ThingGroup", err)
			wantUpdateNotFound(t, s, "UpdateThingGroup", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateThingGroup(ctx, newThingGroup("nope", ""))
			})
			wantUpdateNotFound(t, s, "DeleteThingGroup", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteThingGroup(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newThingGroup("full", "parent")
			bare := &registry.ThingGroup{Name: "bare", ID: "id-bare", Version: 1, CreatedAt: at(0)}
			empty := &registry.ThingGroup{Name: "empty", ID: "id-empty", Attributes: map[string]string{}, Version: 3}
			insertThingGroups(t, s, full, bare, empty)
			for _, want := range []*registry.ThingGroup{storedThingGroup(full), storedThingGroup(bare), storedThingGroup(empty)} {
				got, err := getThingGroup(t, s, want.Name)
				if err != nil {
					t.Fatalf("ThingGroup(%q): %v", want.Name, err)
				}
				if got.Attributes == nil {
					t.Errorf("ThingGroup(%q).Attributes is nil, want an empty map", want.Name)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("ThingGroup(%q) (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertThingGroups(t, s, newThingGroup("g1", ""))
			wantUpdateError(t, s, "InsertThingGroup of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertThingGroup(ctx, newThingGroup("g1", "other"))
			})
			want := storedThingGroup(newThingGroup("g1", ""))
			if got, _ := getThingGroup(t, s, "g1"); !cmp.Equal(want, got) {
				t.Errorf("thing group after a failed insert (-want +got):\n%s", cmp.Diff(want, got))
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertThingGroups(t, s, newThingGroup("g1", ""), newThingGroup("g2", ""))
			changed := newThingGroup("g1", "g2")
			changed.Attributes = map[string]string{"new": "value"}
			changed.Version = 5
			changed.Description = ""
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateThingGroup(ctx, changed) })
			if got, _ := getThingGroup(t, s, "g1"); !cmp.Equal(storedThingGroup(changed), got) {
				t.Errorf("thing group after update (-want +got):\n%s", cmp.Diff(storedThingGroup(changed), got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteThingGroup(ctx, "g1") })
			_, err := getThingGroup(t, s, "g1")
			wantNotFound(t, "deleted thing group", err)
			if _, err := getThingGroup(t, s, "g2"); err != nil {
				t.Errorf("the other thing group: %v", err)
			}
		}},
		{"list filters", testListThingGroups},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want, children []registry.ThingGroup
			for i, name := range sortedNames {
				parent := ""
				if i%3 == 1 {
					parent = "a"
				}
				g := newThingGroup(name, parent)
				insertThingGroups(t, s, g)
				want = append(want, *storedThingGroup(g))
				if parent != "" {
					children = append(children, *storedThingGroup(g))
				}
			}
			checkPages(t, s, want, groupName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.ThingGroup, error) {
				return tx.ListThingGroups(ctx, registry.ThingGroupFilter{}, p)
			})
			checkPages(t, s, children, groupName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.ThingGroup, error) {
				return tx.ListThingGroups(ctx, registry.ThingGroupFilter{ParentName: "a"}, p)
			})
		}},
	})
}

func testListThingGroups(t *testing.T, s registry.Store) {
	insertThingGroups(t, s,
		newThingGroup("plant", ""),
		newThingGroup("plant-a", "plant"),
		newThingGroup("plant-b", "plant"),
		newThingGroup("plant-a-line1", "plant-a"),
		newThingGroup("Plant-x", ""),
		newThingGroup("plantZ", "Plant-x"),
		newThingGroup("pl_nt", ""),
		newThingGroup("other", ""),
	)
	tests := []struct {
		name   string
		filter registry.ThingGroupFilter
		want   []string
	}{
		{"none", registry.ThingGroupFilter{}, []string{"Plant-x", "other", "pl_nt", "plant", "plant-a", "plant-a-line1", "plant-b", "plantZ"}},
		{"root only", registry.ThingGroupFilter{RootOnly: true}, []string{"Plant-x", "other", "pl_nt", "plant"}},
		{"parent", registry.ThingGroupFilter{ParentName: "plant"}, []string{"plant-a", "plant-b"}},
		{"parent: direct children only", registry.ThingGroupFilter{ParentName: "plant-a"}, []string{"plant-a-line1"}},
		{"parent without children", registry.ThingGroupFilter{ParentName: "other"}, nil},
		{"unknown parent", registry.ThingGroupFilter{ParentName: "nope"}, nil},
		{"prefix", registry.ThingGroupFilter{NamePrefix: "plant-"}, []string{"plant-a", "plant-a-line1", "plant-b"}},
		{"prefix is a whole name", registry.ThingGroupFilter{NamePrefix: "plant-a"}, []string{"plant-a", "plant-a-line1"}},
		{"prefix is case-sensitive", registry.ThingGroupFilter{NamePrefix: "Plant"}, []string{"Plant-x"}},
		{"prefix underscore is literal", registry.ThingGroupFilter{NamePrefix: "pl_"}, []string{"pl_nt"}},
		{"prefix matching nothing", registry.ThingGroupFilter{NamePrefix: "plants"}, nil},
		{"prefix and parent", registry.ThingGroupFilter{ParentName: "plant", NamePrefix: "plant-b"}, []string{"plant-b"}},
		{"prefix and root only", registry.ThingGroupFilter{RootOnly: true, NamePrefix: "pl"}, []string{"pl_nt", "plant"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.ThingGroup, error) {
				return tx.ListThingGroups(ctx, tc.filter, registry.Page{Limit: 100})
			})
			if d := diff(tc.want, keys(got, groupName)); d != "" {
				t.Errorf("ListThingGroups(%+v) (-want +got):\n%s", tc.filter, d)
			}
		})
	}
	t.Run("rows are whole", func(t *testing.T) {
		got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.ThingGroup, error) {
			return tx.ListThingGroups(ctx, registry.ThingGroupFilter{ParentName: "plant-a"}, registry.Page{Limit: 100})
		})
		want := []registry.ThingGroup{*storedThingGroup(newThingGroup("plant-a-line1", "plant-a"))}
		if d := diff(want, got); d != "" {
			t.Errorf("ListThingGroups rows (-want +got):\n%s", d)
		}
	})
}

func testThingGroupMembership(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"add and remove are idempotent", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for range 2 {
					if err := tx.AddThingToGroup(ctx, "g1", "t1", at(0)); err != nil {
						return err
					}
				}
				return tx.AddThingToGroup(ctx, "g1", "t2", at(0))
			})
			members := func() []string {
				return mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]string, error) {
					return tx.ListThingsInGroup(ctx, "g1", registry.Page{Limit: 10})
				})
			}
			if d := diff([]string{"t1", "t2"}, members()); d != "" {
				t.Errorf("members after adding t1 twice (-want +got):\n%s", d)
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for range 2 {
					if err := tx.RemoveThingFromGroup(ctx, "g1", "t1"); err != nil {
						return err
					}
				}
				return tx.RemoveThingFromGroup(ctx, "nope", "t2")
			})
			if d := diff([]string{"t2"}, members()); d != "" {
				t.Errorf("members after removing t1 twice (-want +got):\n%s", d)
			}
		}},
		{"list both ways", func(t *testing.T, s registry.Store) {
			// Every thing of sortedNames is in g1; "a" is in every group of sortedNames.
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for _, name := range sortedNames {
					if err := tx.AddThingToGroup(ctx, "g1", name, at(0)); err != nil {
						return err
					}
					if err := tx.AddThingToGroup(ctx, name, "a", at(0)); err != nil {
						return err
					}
				}
				return tx.AddThingToGroup(ctx, "g2", "other", at(0))
			})
			checkPages(t, s, sortedNames, ident, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListThingsInGroup(ctx, "g1", p)
			})
			groups := append([]string{}, sortedNames...)
			groups = append(groups, "g1")
			slices.Sort(groups)
			checkPages(t, s, groups, ident, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListGroupsOfThing(ctx, "a", p)
			})
			checkPages(t, s, nil, ident, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListGroupsOfThing(ctx, "nope", p)
			})
		}},
	})
}
