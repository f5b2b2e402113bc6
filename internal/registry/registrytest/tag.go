package registrytest

import (
	"context"
	"testing"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

func listTags(t *testing.T, s registry.Store, arn string) []iot.Tag {
	t.Helper()
	return mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]iot.Tag, error) {
		return tx.ListTags(ctx, arn, registry.Page{Limit: 100})
	})
}

func testTag(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"put overwrites by key", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.PutTags(ctx, "arn:1", []iot.Tag{{Key: "b", Value: "1"}, {Key: "a", Value: "1"}}); err != nil {
					return err
				}
				if err := tx.PutTags(ctx, "arn:2", []iot.Tag{{Key: "a", Value: "other"}}); err != nil {
					return err
				}
				if err := tx.PutTags(ctx, "arn:1", nil); err != nil {
					return err
				}
				return tx.PutTags(ctx, "arn:1", []iot.Tag{{Key: "b", Value: "2"}, {Key: "c", Value: ""}})
			})
			want := []iot.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: ""}}
			if d := diff(want, listTags(t, s, "arn:1")); d != "" {
				t.Errorf("tags of arn:1 (-want +got):\n%s", d)
			}
			if d := diff([]iot.Tag{{Key: "a", Value: "other"}}, listTags(t, s, "arn:2")); d != "" {
				t.Errorf("tags of arn:2 (-want +got):\n%s", d)
			}
			if got := listTags(t, s, "arn:3"); len(got) != 0 {
				t.Errorf("tags of an untagged resource: got %v, want none", got)
			}
		}},
		{"delete", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for _, arn := range []string{"arn:1", "arn:2"} {
					if err := tx.PutTags(ctx, arn, []iot.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}}); err != nil {
						return err
					}
				}
				if err := tx.DeleteTags(ctx, "arn:1", []string{"a", "c", "missing"}); err != nil {
					return err
				}
				if err := tx.DeleteTags(ctx, "arn:1", nil); err != nil {
					return err
				}
				return tx.DeleteAllTags(ctx, "arn:3")
			})
			if d := diff([]iot.Tag{{Key: "b", Value: "2"}}, listTags(t, s, "arn:1")); d != "" {
				t.Errorf("tags after DeleteTags (-want +got):\n%s", d)
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteAllTags(ctx, "arn:2") })
			if got := listTags(t, s, "arn:2"); len(got) != 0 {
				t.Errorf("tags after DeleteAllTags: got %v, want none", got)
			}
			if d := diff([]iot.Tag{{Key: "b", Value: "2"}}, listTags(t, s, "arn:1")); d != "" {
				t.Errorf("tags of another resource after DeleteAllTags (-want +got):\n%s", d)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []iot.Tag
			for _, k := range sortedNames {
				want = append(want, iot.Tag{Key: k, Value: "v-" + k})
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.PutTags(ctx, "arn:1", reversed(want)); err != nil {
					return err
				}
				return tx.PutTags(ctx, "arn:2", []iot.Tag{{Key: "0", Value: "x"}, {Key: "zz", Value: "x"}})
			})
			checkPages(t, s, want, func(tag iot.Tag) string { return tag.Key },
				func(ctx context.Context, tx registry.Tx, p registry.Page) ([]iot.Tag, error) {
					return tx.ListTags(ctx, "arn:1", p)
				})
		}},
	})
}
