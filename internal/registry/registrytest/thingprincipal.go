package registrytest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

func newThingPrincipal(thing, principal string) *registry.ThingPrincipal {
	return &registry.ThingPrincipal{
		ThingName: thing,
		Principal: principal,
		Type:      iot.NonExclusiveThing,
		CreatedAt: at(7 * time.Minute),
	}
}

func storedThingPrincipal(tp *registry.ThingPrincipal) *registry.ThingPrincipal {
	c := *tp
	c.CreatedAt = ms(c.CreatedAt)
	return &c
}

func attachThingPrincipals(t *testing.T, s registry.Store, links ...*registry.ThingPrincipal) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, tp := range links {
			if err := tx.AttachThingPrincipal(ctx, tp); err != nil {
				return err
			}
		}
		return nil
	})
}

func getThingPrincipal(t *testing.T, s registry.Store, thing, principal string) (*registry.ThingPrincipal, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.ThingPrincipal, error) {
		return tx.ThingPrincipal(ctx, thing, principal)
	})
}

func testThingPrincipal(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			attachThingPrincipals(t, s, newThingPrincipal("t1", "arn:cert/1"))
			for _, tc := range [][2]string{{"t1", "arn:cert/2"}, {"t2", "arn:cert/1"}} {
				_, err := getThingPrincipal(t, s, tc[0], tc[1])
				wantNotFound(t, "ThingPrincipal("+tc[0]+", "+tc[1]+")", err)
			}
		}},
		{"attach, reattach, detach", func(t *testing.T, s registry.Store) {
			first := newThingPrincipal("t1", "arn:cert/1")
			attachThingPrincipals(t, s, first, newThingPrincipal("t1", "arn:cert/2"))
			got, err := getThingPrincipal(t, s, "t1", "arn:cert/1")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(storedThingPrincipal(first), got); d != "" {
				t.Errorf("ThingPrincipal (-want +got):\n%s", d)
			}
			// Attaching again changes the type only.
			again := newThingPrincipal("t1", "arn:cert/1")
			again.Type, again.CreatedAt = iot.ExclusiveThing, at(time.Hour)
			attachThingPrincipals(t, s, again)
			want := storedThingPrincipal(first)
			want.Type = iot.ExclusiveThing
			if got, _ := getThingPrincipal(t, s, "t1", "arn:cert/1"); !cmp.Equal(want, got) {
				t.Errorf("ThingPrincipal after reattaching (-want +got):\n%s", cmp.Diff(want, got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for range 2 {
					if err := tx.DetachThingPrincipal(ctx, "t1", "arn:cert/1"); err != nil {
						return err
					}
				}
				return tx.DetachThingPrincipal(ctx, "nope", "arn:cert/2")
			})
			_, err = getThingPrincipal(t, s, "t1", "arn:cert/1")
			wantNotFound(t, "detached ThingPrincipal", err)
			if _, err := getThingPrincipal(t, s, "t1", "arn:cert/2"); err != nil {
				t.Errorf("the other ThingPrincipal: %v", err)
			}
		}},
		{"list both ways", func(t *testing.T, s registry.Store) {
			// Thing t1 has every principal of sortedNames; principal "a" every thing of sortedNames.
			var ofThing, ofPrincipal []registry.ThingPrincipal
			for i, name := range sortedNames {
				tp := newThingPrincipal("t1", name)
				pt := newThingPrincipal(name, "a")
				if i%2 == 0 {
					tp.Type, pt.Type = iot.ExclusiveThing, iot.ExclusiveThing
				}
				attachThingPrincipals(t, s, tp, pt)
				ofThing = append(ofThing, *storedThingPrincipal(tp))
				ofPrincipal = append(ofPrincipal, *storedThingPrincipal(pt))
			}
			attachThingPrincipals(t, s, newThingPrincipal("t2", "other"))
			// The link (t1, a) is among t1's, and also a thing of principal "a".
			for _, tp := range ofThing {
				if tp.Principal == "a" {
					ofPrincipal = append(ofPrincipal, tp)
				}
			}
			sortByCursor(ofPrincipal, func(tp registry.ThingPrincipal) string { return tp.ThingName }, true)
			checkPages(t, s, ofThing, func(tp registry.ThingPrincipal) string { return tp.Principal },
				func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.ThingPrincipal, error) {
					return tx.ListThingPrincipals(ctx, "t1", p)
				})
			checkPages(t, s, ofPrincipal, func(tp registry.ThingPrincipal) string { return tp.ThingName },
				func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.ThingPrincipal, error) {
					return tx.ListPrincipalThings(ctx, "a", p)
				})
		}},
	})
}
