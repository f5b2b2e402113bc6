package registrytest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func newThingType(name string) *registry.ThingType {
	return &registry.ThingType{
		Name:                  name,
		ID:                    "id-" + name,
		Description:           "a type called " + name,
		SearchableAttributes:  []string{"serial", "color"},
		PropagatingAttributes: `[{"userPropertyKey":"k","thingAttribute":"serial"}]`,
		CreatedAt:             at(time.Minute),
	}
}

func storedThingType(tt *registry.ThingType) *registry.ThingType {
	c := *tt
	c.SearchableAttributes = append([]string{}, tt.SearchableAttributes...)
	c.CreatedAt, c.DeprecatedAt = ms(c.CreatedAt), ms(c.DeprecatedAt)
	return &c
}

func getThingType(t *testing.T, s registry.Store, name string) (*registry.ThingType, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.ThingType, error) {
		return tx.ThingType(ctx, name)
	})
}

func insertThingTypes(t *testing.T, s registry.Store, types ...*registry.ThingType) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, tt := range types {
			if err := tx.InsertThingType(ctx, tt); err != nil {
				return err
			}
		}
		return nil
	})
}

func testThingType(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getThingType(t, s, "nope")
			wantNotFound(t, "ThingType", err)
			wantUpdateNotFound(t, s, "UpdateThingType", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateThingType(ctx, newThingType("nope"))
			})
			wantUpdateNotFound(t, s, "DeleteThingType", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteThingType(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newThingType("full")
			full.Deprecated, full.DeprecatedAt = true, at(2*time.Minute)
			bare := &registry.ThingType{Name: "bare", ID: "id-bare", CreatedAt: at(0)}
			empty := &registry.ThingType{Name: "empty", ID: "id-empty", SearchableAttributes: []string{}}
			insertThingTypes(t, s, full, bare, empty)
			for _, want := range []*registry.ThingType{storedThingType(full), storedThingType(bare), storedThingType(empty)} {
				got, err := getThingType(t, s, want.Name)
				if err != nil {
					t.Fatalf("ThingType(%q): %v", want.Name, err)
				}
				if got.SearchableAttributes == nil {
					t.Errorf("ThingType(%q).SearchableAttributes is nil, want an empty slice", want.Name)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("ThingType(%q) (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertThingTypes(t, s, newThingType("t1"))
			other := newThingType("t1")
			other.Description = "other"
			wantUpdateError(t, s, "InsertThingType of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertThingType(ctx, other)
			})
			if got, _ := getThingType(t, s, "t1"); !cmp.Equal(storedThingType(newThingType("t1")), got) {
				t.Errorf("thing type after a failed insert (-want +got):\n%s", cmp.Diff(storedThingType(newThingType("t1")), got))
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertThingTypes(t, s, newThingType("t1"), newThingType("t2"))
			changed := newThingType("t1")
			changed.Deprecated, changed.DeprecatedAt = true, at(time.Hour)
			changed.SearchableAttributes = []string{"other"}
			changed.Description = ""
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateThingType(ctx, changed) })
			if got, _ := getThingType(t, s, "t1"); !cmp.Equal(storedThingType(changed), got) {
				t.Errorf("thing type after update (-want +got):\n%s", cmp.Diff(storedThingType(changed), got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteThingType(ctx, "t1") })
			_, err := getThingType(t, s, "t1")
			wantNotFound(t, "deleted thing type", err)
			if _, err := getThingType(t, s, "t2"); err != nil {
				t.Errorf("the other thing type: %v", err)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []registry.ThingType
			for _, name := range slices.Backward(sortedNames) {
				insertThingTypes(t, s, newThingType(name))
			}
			for _, name := range sortedNames {
				want = append(want, *storedThingType(newThingType(name)))
			}
			checkPages(t, s, want, func(tt registry.ThingType) string { return tt.Name },
				func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.ThingType, error) {
					return tx.ListThingTypes(ctx, p)
				})
		}},
	})
}
