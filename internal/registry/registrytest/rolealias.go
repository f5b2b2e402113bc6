package registrytest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func newRoleAlias(alias string) *registry.RoleAlias {
	return &registry.RoleAlias{
		Alias:                     alias,
		RoleARN:                   "arn:aws:iam::123456789012:role/" + alias,
		CredentialDurationSeconds: 3600,
		CreatedAt:                 at(7 * time.Minute),
		UpdatedAt:                 at(8 * time.Minute),
	}
}

func storedRoleAlias(a *registry.RoleAlias) *registry.RoleAlias {
	c := *a
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return &c
}

func getRoleAlias(t *testing.T, s registry.Store, alias string) (*registry.RoleAlias, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.RoleAlias, error) {
		return tx.RoleAlias(ctx, alias)
	})
}

func insertRoleAliases(t *testing.T, s registry.Store, aliases ...*registry.RoleAlias) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, a := range aliases {
			if err := tx.InsertRoleAlias(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

func roleAliasName(a registry.RoleAlias) string { return a.Alias }

func testRoleAlias(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getRoleAlias(t, s, "nope")
			wantNotFound(t, "RoleAlias", err)
			wantUpdateNotFound(t, s, "UpdateRoleAlias", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateRoleAlias(ctx, newRoleAlias("nope"))
			})
			wantUpdateNotFound(t, s, "DeleteRoleAlias", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteRoleAlias(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newRoleAlias("full")
			long := newRoleAlias("long")
			long.CredentialDurationSeconds = 43200
			long.RoleARN = "arn:aws:iam::123456789012:role/service-role/a/b"
			zero := &registry.RoleAlias{Alias: "zero", RoleARN: "arn:aws:iam::123456789012:role/z"}
			insertRoleAliases(t, s, full, long, zero)
			for _, want := range []*registry.RoleAlias{storedRoleAlias(full), storedRoleAlias(long), storedRoleAlias(zero)} {
				got, err := getRoleAlias(t, s, want.Alias)
				if err != nil {
					t.Fatalf("RoleAlias(%q): %v", want.Alias, err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("RoleAlias(%q) (-want +got):\n%s", want.Alias, d)
				}
			}
		}},
		{"insert taken alias", func(t *testing.T, s registry.Store) {
			insertRoleAliases(t, s, newRoleAlias("a1"))
			other := newRoleAlias("a1")
			other.RoleARN = "arn:aws:iam::123456789012:role/other"
			wantUpdateError(t, s, "InsertRoleAlias of a taken alias", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertRoleAlias(ctx, other)
			})
			want := storedRoleAlias(newRoleAlias("a1"))
			if got, _ := getRoleAlias(t, s, "a1"); !cmp.Equal(want, got) {
				t.Errorf("role alias after a failed insert (-want +got):\n%s", cmp.Diff(want, got))
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertRoleAliases(t, s, newRoleAlias("a1"), newRoleAlias("a2"))
			changed := newRoleAlias("a1")
			changed.RoleARN = "arn:aws:iam::123456789012:role/changed"
			changed.CredentialDurationSeconds = 900
			changed.CreatedAt, changed.UpdatedAt = at(time.Hour), at(2*time.Hour)
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateRoleAlias(ctx, changed) })
			if got, _ := getRoleAlias(t, s, "a1"); !cmp.Equal(storedRoleAlias(changed), got) {
				t.Errorf("role alias after update (-want +got):\n%s", cmp.Diff(storedRoleAlias(changed), got))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteRoleAlias(ctx, "a1") })
			_, err := getRoleAlias(t, s, "a1")
			wantNotFound(t, "deleted role alias", err)
			if _, err := getRoleAlias(t, s, "a2"); err != nil {
				t.Errorf("the other role alias: %v", err)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []registry.RoleAlias
			for _, name := range slices.Backward(sortedNames) {
				insertRoleAliases(t, s, newRoleAlias(name))
			}
			for _, name := range sortedNames {
				want = append(want, *storedRoleAlias(newRoleAlias(name)))
			}
			t.Run("ascending", func(t *testing.T) {
				checkPages(t, s, want, roleAliasName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.RoleAlias, error) {
					return tx.ListRoleAliases(ctx, true, p)
				})
			})
			t.Run("descending", func(t *testing.T) {
				checkPages(t, s, reversed(want), roleAliasName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.RoleAlias, error) {
					return tx.ListRoleAliases(ctx, false, p)
				})
			})
		}},
	})
}
