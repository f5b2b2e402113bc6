package registrytest

import (
	"context"
	"errors"
	"testing"

	"github.com/iotcore/iotcore/internal/registry"
)

func getSetting(t *testing.T, s registry.Store, name string) (string, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (string, error) {
		return tx.Setting(ctx, name)
	})
}

// testSetting checks the account-wide settings (the fleet index's
// configuration is one): absent until put, replaced whole by a put, each
// name on its own, and untouched by a transaction that fails.
func testSetting(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getSetting(t, s, "indexing")
			wantNotFound(t, "Setting", err)
		}},
		{"put and replace", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.PutSetting(ctx, "indexing", `{"thingIndexingMode":"REGISTRY"}`, at(0)); err != nil {
					return err
				}
				return tx.PutSetting(ctx, "other", `{"a":1}`, at(0))
			})
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.PutSetting(ctx, "indexing", `{"thingIndexingMode":"OFF"}`, at(1))
			})
			if v, err := getSetting(t, s, "indexing"); err != nil || v != `{"thingIndexingMode":"OFF"}` {
				t.Errorf("Setting(indexing) = %q, %v; want the second put", v, err)
			}
			if v, err := getSetting(t, s, "other"); err != nil || v != `{"a":1}` {
				t.Errorf("Setting(other) = %q, %v; want its own value", v, err)
			}
		}},
		{"rolled back", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.PutSetting(ctx, "indexing", "before", at(0))
			})
			boom := errors.New("boom")
			err := s.Update(t.Context(), func(tx registry.Tx) error {
				if err := tx.PutSetting(t.Context(), "indexing", "after", at(1)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Update = %v, want the body's error", err)
			}
			if v, err := getSetting(t, s, "indexing"); err != nil || v != "before" {
				t.Errorf("after a failed transaction Setting = %q, %v; want %q", v, err, "before")
			}
		}},
	})
}
