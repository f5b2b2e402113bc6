package registrytest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// newThing returns a thing with every field set.
func newThing(name string) *registry.Thing {
	return &registry.Thing{
		Name:             name,
		ID:               "id-" + name,
		TypeName:         "sensor",
		Attributes:       map[string]string{"color": "red", "serial": "sn-" + name},
		Version:          1,
		BillingGroupName: "billing",
		CreatedAt:        at(time.Hour),
	}
}

// stored returns what a store gives back for th.
func stored(th *registry.Thing) *registry.Thing {
	c := *th
	c.CreatedAt = ms(c.CreatedAt)
	c.Attributes = map[string]string{}
	for k, v := range th.Attributes {
		c.Attributes[k] = v
	}
	return &c
}

func getThing(t *testing.T, s registry.Store, name string) (*registry.Thing, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
		return tx.Thing(ctx, name)
	})
}

func insertThings(t *testing.T, s registry.Store, things ...*registry.Thing) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, th := range things {
			if err := tx.InsertThing(ctx, th); err != nil {
				return err
			}
		}
		return nil
	})
}

func testThing(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getThing(t, s, "nope")
			wantNotFound(t, "Thing", err)
			wantUpdateNotFound(t, s, "UpdateThing", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateThing(ctx, newThing("nope"))
			})
			wantUpdateNotFound(t, s, "DeleteThing", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteThing(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newThing("full")
			bare := &registry.Thing{Name: "bare", ID: "id-bare", Version: 1, CreatedAt: at(0)}
			empty := &registry.Thing{Name: "empty", ID: "id-empty", Attributes: map[string]string{}, Version: 7}
			insertThings(t, s, full, bare, empty)
			for _, want := range []*registry.Thing{stored(full), stored(bare), stored(empty)} {
				got, err := getThing(t, s, want.Name)
				if err != nil {
					t.Fatalf("Thing(%q): %v", want.Name, err)
				}
				if got.Attributes == nil {
					t.Errorf("Thing(%q).Attributes is nil, want an empty map", want.Name)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("Thing(%q) (-want +got):\n%s", want.Name, d)
				}
			}
			if got, _ := getThing(t, s, "empty"); got != nil && !got.CreatedAt.IsZero() {
				t.Errorf("zero CreatedAt read back as %v", got.CreatedAt)
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertThings(t, s, newThing("t1"))
			other := newThing("t1")
			other.ID, other.Attributes = "other", map[string]string{"x": "y"}
			wantUpdateError(t, s, "InsertThing of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertThing(ctx, other)
			})
			got, err := getThing(t, s, "t1")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(stored(newThing("t1")), got); d != "" {
				t.Errorf("thing after a failed insert (-want +got):\n%s", d)
			}
		}},
		{"update", func(t *testing.T, s registry.Store) {
			insertThings(t, s, newThing("t1"), newThing("t2"))
			changed := &registry.Thing{
				Name:       "t1",
				ID:         "id-t1",
				TypeName:   "lamp",
				Attributes: map[string]string{"serial": "sn-new", "added": "yes"},
				Version:    2,
				CreatedAt:  at(2 * time.Hour),
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateThing(ctx, changed) })
			for _, want := range []*registry.Thing{stored(changed), stored(newThing("t2"))} {
				got, err := getThing(t, s, want.Name)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("Thing(%q) after UpdateThing (-want +got):\n%s", want.Name, d)
				}
			}
			// The removed attribute is gone from the filters too.
			got := listThingNames(t, s, registry.ThingFilter{AttributeName: "color", AttributeValue: "red"})
			if d := diff([]string{"t2"}, got); d != "" {
				t.Errorf("things with color=red (-want +got):\n%s", d)
			}
			cleared := stored(changed)
			cleared.Attributes = nil
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateThing(ctx, cleared) })
			cleared.Attributes = map[string]string{}
			if got, _ := getThing(t, s, "t1"); !cmp.Equal(cleared, got) {
				t.Errorf("Thing after clearing attributes (-want +got):\n%s", cmp.Diff(cleared, got))
			}
		}},
		{"delete keeps principals and groups", func(t *testing.T, s registry.Store) {
			insertThings(t, s, newThing("t1"), newThing("t2"))
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.AddThingToGroup(ctx, "g1", "t1", at(0)); err != nil {
					return err
				}
				if err := tx.AttachThingPrincipal(ctx, &registry.ThingPrincipal{
					ThingName: "t1", Principal: "arn:cert", Type: iot.NonExclusiveThing, CreatedAt: at(0),
				}); err != nil {
					return err
				}
				return tx.DeleteThing(ctx, "t1")
			})
			_, err := getThing(t, s, "t1")
			wantNotFound(t, "deleted thing", err)
			if got := listThingNames(t, s, registry.ThingFilter{}); !slices.Equal(got, []string{"t2"}) {
				t.Errorf("things after delete: got %q, want [t2]", got)
			}
			if got := listThingNames(t, s, registry.ThingFilter{AttributeName: "color", AttributeValue: "red"}); !slices.Equal(got, []string{"t2"}) {
				t.Errorf("things with color=red after delete: got %q, want [t2]", got)
			}
			groups := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]string, error) {
				return tx.ListGroupsOfThing(ctx, "t1", registry.Page{Limit: 10})
			})
			if !slices.Equal(groups, []string{"g1"}) {
				t.Errorf("groups of the deleted thing: got %q, want [g1] (the registry removes them, not the store)", groups)
			}
			principals := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.ThingPrincipal, error) {
				return tx.ListThingPrincipals(ctx, "t1", registry.Page{Limit: 10})
			})
			if len(principals) != 1 {
				t.Errorf("principals of the deleted thing: got %v, want one (the registry removes them, not the store)", principals)
			}
			// A new thing of the same name starts without the old attributes.
			reborn := &registry.Thing{Name: "t1", ID: "id-new", Version: 1, CreatedAt: at(0)}
			insertThings(t, s, reborn)
			if got, _ := getThing(t, s, "t1"); !cmp.Equal(stored(reborn), got) {
				t.Errorf("recreated thing (-want +got):\n%s", cmp.Diff(stored(reborn), got))
			}
		}},
		{"list filters", testListThings},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []registry.Thing
			for _, name := range sortedNames {
				th := newThing(name)
				if len(want)%2 == 0 {
					th.TypeName = "even"
				}
				insertThings(t, s, th)
				want = append(want, *stored(th))
			}
			checkPages(t, s, want, thingName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Thing, error) {
				return tx.ListThings(ctx, registry.ThingFilter{}, p)
			})
			var even []registry.Thing
			for _, th := range want {
				if th.TypeName == "even" {
					even = append(even, th)
				}
			}
			checkPages(t, s, even, thingName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Thing, error) {
				return tx.ListThings(ctx, registry.ThingFilter{TypeName: "even"}, p)
			})
			checkPages(t, s, want, thingName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Thing, error) {
				return tx.ListThings(ctx, registry.ThingFilter{AttributeName: "serial", AttributeValue: "sn-", ValuePrefix: true}, p)
			})
			// A name prefix: "a" holds a, a-1, a0, a:1 and a_1 but not A-1,
			// _u or b; "a-" and "z" hold themselves and what follows them.
			for prefix, names := range map[string][]string{"a": {"a", "a-1", "a0", "a:1", "a_1"}, "a-": {"a-1"}, "Z": {"Z:z"}, "z": {"z"}, "zz": nil} {
				var of []registry.Thing
				for _, th := range want {
					if slices.Contains(names, th.Name) {
						of = append(of, th)
					}
				}
				checkPages(t, s, of, thingName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Thing, error) {
					return tx.ListThings(ctx, registry.ThingFilter{NamePrefix: prefix}, p)
				})
			}
		}},
		{"count of type", func(t *testing.T, s registry.Store) {
			a, b, c := newThing("a"), newThing("b"), newThing("c")
			c.TypeName = "other"
			insertThings(t, s, a, b, c)
			for typ, want := range map[string]int{"sensor": 2, "other": 1, "none": 0} {
				got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) (int, error) {
					return tx.CountThingsOfType(ctx, typ)
				})
				if got != want {
					t.Errorf("CountThingsOfType(%q): got %d, want %d", typ, got, want)
				}
			}
		}},
	})
}

// sortedNames are valid resource names in byte order, which differs from
// case-insensitive and locale orders.
var sortedNames = []string{"A-1", "B", "Z:z", "_u", "a", "a-1", "a0", "a:1", "a_1", "b", "z"}

func thingName(th registry.Thing) string { return th.Name }

func listThingNames(t *testing.T, s registry.Store, f registry.ThingFilter) []string {
	t.Helper()
	things := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.Thing, error) {
		return tx.ListThings(ctx, f, registry.Page{Limit: 1000})
	})
	return keys(things, thingName)
}

func testListThings(t *testing.T, s registry.Store) {
	things := []*registry.Thing{
		{Name: "alpha", TypeName: "sensor", Attributes: map[string]string{"color": "red", "serial": "ab-100"}},
		{Name: "beta", TypeName: "sensor", Attributes: map[string]string{"color": "blue"}},
		{Name: "Gamma", Attributes: map[string]string{"serial": "ab-200"}},
		{Name: "delta", TypeName: "lamp", Attributes: map[string]string{"color": "red", "serial": "AB-300"}},
		{Name: "epsilon"},
		{Name: "zeta", TypeName: "lamp", Attributes: map[string]string{"serial": "ab%_0", "color": "REd"}},
	}
	for _, th := range things {
		th.ID, th.Version, th.CreatedAt = "id-"+th.Name, 1, at(0)
	}
	insertThings(t, s, things...)

	tests := []struct {
		name   string
		filter registry.ThingFilter
		want   []string
	}{
		{"none", registry.ThingFilter{}, []string{"Gamma", "alpha", "beta", "delta", "epsilon", "zeta"}},
		{"type", registry.ThingFilter{TypeName: "sensor"}, []string{"alpha", "beta"}},
		{"other type", registry.ThingFilter{TypeName: "lamp"}, []string{"delta", "zeta"}},
		{"unknown type", registry.ThingFilter{TypeName: "none"}, nil},
		{"attribute", registry.ThingFilter{AttributeName: "color", AttributeValue: "red"}, []string{"alpha", "delta"}},
		{"attribute is case-sensitive", registry.ThingFilter{AttributeName: "color", AttributeValue: "REd"}, []string{"zeta"}},
		{"attribute and type", registry.ThingFilter{TypeName: "sensor", AttributeName: "color", AttributeValue: "red"}, []string{"alpha"}},
		{"attribute value of another name", registry.ThingFilter{AttributeName: "serial", AttributeValue: "red"}, nil},
		{"unknown attribute", registry.ThingFilter{AttributeName: "size", AttributeValue: "red"}, nil},
		{"exact value is not a prefix", registry.ThingFilter{AttributeName: "serial", AttributeValue: "ab-"}, nil},
		{"prefix", registry.ThingFilter{AttributeName: "serial", AttributeValue: "ab-", ValuePrefix: true}, []string{"Gamma", "alpha"}},
		{"longer prefix", registry.ThingFilter{AttributeName: "serial", AttributeValue: "ab-1", ValuePrefix: true}, []string{"alpha"}},
		{"whole value as prefix", registry.ThingFilter{AttributeName: "serial", AttributeValue: "ab-100", ValuePrefix: true}, []string{"alpha"}},
		{"prefix longer than values", registry.ThingFilter{AttributeName: "serial", AttributeValue: "ab-1000", ValuePrefix: true}, nil},
		{"prefix is case-sensitive", registry.ThingFilter{AttributeName: "serial", AttributeValue: "AB", ValuePrefix: true}, []string{"delta"}},
		{"prefix is literal", registry.ThingFilter{AttributeName: "serial", AttributeValue: "ab%", ValuePrefix: true}, []string{"zeta"}},
		{"prefix underscore is literal", registry.ThingFilter{AttributeName: "serial", AttributeValue: "ab_", ValuePrefix: true}, nil},
		{"empty prefix: has the attribute", registry.ThingFilter{AttributeName: "serial", ValuePrefix: true}, []string{"Gamma", "alpha", "delta", "zeta"}},
		{"prefix and type", registry.ThingFilter{TypeName: "lamp", AttributeName: "serial", AttributeValue: "ab", ValuePrefix: true}, []string{"zeta"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := listThingNames(t, s, tc.filter)
			if d := diff(tc.want, got); d != "" {
				t.Errorf("ListThings(%+v) (-want +got):\n%s", tc.filter, d)
			}
		})
	}

	t.Run("rows are whole", func(t *testing.T) {
		got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.Thing, error) {
			return tx.ListThings(ctx, registry.ThingFilter{AttributeName: "color", AttributeValue: "red"}, registry.Page{Limit: 10})
		})
		want := []registry.Thing{*stored(things[0]), *stored(things[3])}
		if d := diff(want, got); d != "" {
			t.Errorf("ListThings rows (-want +got):\n%s", d)
		}
		all := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.Thing, error) {
			return tx.ListThings(ctx, registry.ThingFilter{}, registry.Page{Limit: 10})
		})
		for _, th := range all {
			if th.Attributes == nil {
				t.Errorf("ListThings: %s has nil Attributes, want an empty map", th.Name)
			}
		}
	})
}
