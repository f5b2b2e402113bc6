package registrytest

import (
	"context"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

func getRegistrationCode(t *testing.T, s registry.Store, account string) (string, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (string, error) {
		return tx.RegistrationCode(ctx, account)
	})
}

func testRegistrationCode(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getRegistrationCode(t, s, "111111111111")
			wantNotFound(t, "RegistrationCode", err)
			wantUpdateNotFound(t, s, "DeleteRegistrationCode", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteRegistrationCode(ctx, "111111111111")
			})
		}},
		{"put, replace, delete", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.PutRegistrationCode(ctx, "111111111111", "code-1", at(0)); err != nil {
					return err
				}
				return tx.PutRegistrationCode(ctx, "222222222222", "code-2", at(0))
			})
			wantCode := func(account, want string) {
				t.Helper()
				got, err := getRegistrationCode(t, s, account)
				if err != nil || got != want {
					t.Errorf("RegistrationCode(%s): got %q, %v; want %q", account, got, err, want)
				}
			}
			wantCode("111111111111", "code-1")
			wantCode("222222222222", "code-2")
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.PutRegistrationCode(ctx, "111111111111", "code-3", at(time.Hour))
			})
			wantCode("111111111111", "code-3")
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteRegistrationCode(ctx, "111111111111")
			})
			_, err := getRegistrationCode(t, s, "111111111111")
			wantNotFound(t, "deleted RegistrationCode", err)
			wantCode("222222222222", "code-2")
		}},
	})
}
