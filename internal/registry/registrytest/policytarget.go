package registrytest

import (
	"context"
	"slices"
	"testing"

	"github.com/iotcore/iotcore/internal/registry"
)

func testPolicyTarget(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"attach and detach are idempotent", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for range 2 {
					if err := tx.AttachPolicy(ctx, "p1", "arn:cert/1", at(0)); err != nil {
						return err
					}
				}
				return tx.AttachPolicy(ctx, "p1", "arn:cert/2", at(0))
			})
			wantTargets(t, s, "p1", []string{"arn:cert/1", "arn:cert/2"})
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for range 2 {
					if err := tx.DetachPolicy(ctx, "p1", "arn:cert/1"); err != nil {
						return err
					}
				}
				return tx.DetachPolicy(ctx, "nope", "arn:cert/2")
			})
			wantTargets(t, s, "p1", []string{"arn:cert/2"})
			policies := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]string, error) {
				return tx.ListTargetPolicies(ctx, "arn:cert/1", registry.Page{Limit: 10})
			})
			if len(policies) != 0 {
				t.Errorf("policies of a detached target: got %q, want none", policies)
			}
		}},
		{"list and count both ways", func(t *testing.T, s registry.Store) {
			// Every target of sortedNames has p1; target "a" has every policy of sortedNames.
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for _, name := range sortedNames {
					if err := tx.AttachPolicy(ctx, "p1", name, at(0)); err != nil {
						return err
					}
					if err := tx.AttachPolicy(ctx, name, "a", at(0)); err != nil {
						return err
					}
				}
				return tx.AttachPolicy(ctx, "p2", "other", at(0))
			})
			checkPages(t, s, sortedNames, ident, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListPolicyTargets(ctx, "p1", p)
			})
			policies := append([]string{"p1"}, sortedNames...)
			slices.Sort(policies)
			checkPages(t, s, policies, ident, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]string, error) {
				return tx.ListTargetPolicies(ctx, "a", p)
			})
			counts := []struct {
				name string
				fn   func(context.Context, registry.Tx) (int, error)
				want int
			}{
				{"targets of p1", func(ctx context.Context, tx registry.Tx) (int, error) { return tx.CountPolicyTargets(ctx, "p1") }, len(sortedNames)},
				{"targets of p2", func(ctx context.Context, tx registry.Tx) (int, error) { return tx.CountPolicyTargets(ctx, "p2") }, 1},
				{"targets of nope", func(ctx context.Context, tx registry.Tx) (int, error) { return tx.CountPolicyTargets(ctx, "nope") }, 0},
				{"policies of a", func(ctx context.Context, tx registry.Tx) (int, error) { return tx.CountTargetPolicies(ctx, "a") }, len(policies)},
				{"policies of other", func(ctx context.Context, tx registry.Tx) (int, error) { return tx.CountTargetPolicies(ctx, "other") }, 1},
				{"policies of nope", func(ctx context.Context, tx registry.Tx) (int, error) { return tx.CountTargetPolicies(ctx, "nope") }, 0},
			}
			for _, c := range counts {
				if got := mustGet(t, s, c.fn); got != c.want {
					t.Errorf("count of %s: got %d, want %d", c.name, got, c.want)
				}
			}
		}},
	})
}

func wantTargets(t *testing.T, s registry.Store, policy string, want []string) {
	t.Helper()
	got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]string, error) {
		return tx.ListPolicyTargets(ctx, policy, registry.Page{Limit: 10})
	})
	if d := diff(want, got); d != "" {
		t.Errorf("targets of %s (-want +got):\n%s", policy, d)
	}
}
