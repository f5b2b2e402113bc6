package registrytest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func testShadow(t *testing.T, open Opener) {
	at := time.UnixMilli(1700000000123).UTC()
	classic := registry.StoredShadow{ThingName: "pump-1", Document: []byte(`{"state":{"reported":{"on":true}}}`), Version: 1, UpdatedAt: at}
	runAll(t, open, []subtest{
		{"put, get, replace", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.PutShadow(ctx, &classic) })
			got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) (*registry.StoredShadow, error) {
				return tx.Shadow(ctx, "pump-1", "")
			})
			if d := cmp.Diff(&classic, got); d != "" {
				t.Errorf("shadow (-want +got):\n%s", d)
			}
			next := classic
			next.Document, next.Version, next.UpdatedAt = []byte(`{"state":{}}`), 2, at.Add(time.Second)
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.PutShadow(ctx, &next) })
			got = mustGet(t, s, func(ctx context.Context, tx registry.Tx) (*registry.StoredShadow, error) {
				return tx.Shadow(ctx, "pump-1", "")
			})
			if d := cmp.Diff(&next, got); d != "" {
				t.Errorf("replaced shadow (-want +got):\n%s", d)
			}
		}},
		{"missing and deleted", func(t *testing.T, s registry.Store) {
			_, err := get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.StoredShadow, error) {
				return tx.Shadow(ctx, "pump-1", "")
			})
			if !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("a missing shadow: %v, want ErrNotFound", err)
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.PutShadow(ctx, &classic) })
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteShadow(ctx, "pump-1", "") })
			err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteShadow(t.Context(), "pump-1", "") })
			if !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("deleting a deleted shadow: %v, want ErrNotFound", err)
			}
		}},
		{"named shadows are listed apart from the classic one", func(t *testing.T, s registry.Store) {
			for _, sh := range []registry.StoredShadow{
				classic,
				{ThingName: "pump-1", ShadowName: "config", Document: []byte(`{}`), Version: 1, UpdatedAt: at},
				{ThingName: "pump-1", ShadowName: "Alarm", Document: []byte(`{}`), Version: 3, UpdatedAt: at},
				{ThingName: "pump-1", ShadowName: "a:b_c-d", Document: []byte(`{}`), Version: 1, UpdatedAt: at},
				{ThingName: "pump-2", ShadowName: "config", Document: []byte(`{}`), Version: 1, UpdatedAt: at},
			} {
				update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.PutShadow(ctx, &sh) })
			}
			all := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.StoredShadow, error) { return tx.AllShadows(ctx) })
			var keys []string
			for _, sh := range all {
				keys = append(keys, sh.ThingName+"/"+sh.ShadowName)
			}
			if got := strings.Join(keys, " "); got != "pump-1/ pump-1/Alarm pump-1/a:b_c-d pump-1/config pump-2/config" {
				t.Errorf("AllShadows: %s", got)
			}
			want := []string{"Alarm", "a:b_c-d", "config"} // byte order
			checkPages(t, s, want, func(n string) string { return n }, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListNamedShadows(ctx, "pump-1", p)
			})
		}},
	})
}
