package registrytest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func newPolicy(name string) *registry.Policy {
	return &registry.Policy{
		Name:           name,
		DefaultVersion: 1,
		LastVersion:    1,
		CreatedAt:      at(5 * time.Minute),
		UpdatedAt:      at(6 * time.Minute),
		GenerationID:   "gen-" + name,
	}
}

func storedPolicy(p *registry.Policy) *registry.Policy {
	c := *p
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return &c
}

func newPolicyVersion(policy string, id int64) *registry.PolicyVersion {
	return &registry.PolicyVersion{
		PolicyName: policy,
		VersionID:  id,
		Document:   fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"v%d"}]}`, id),
		CreatedAt:  at(time.Duration(id) * time.Minute),
	}
}

func storedPolicyVersion(v *registry.PolicyVersion) *registry.PolicyVersion {
	c := *v
	c.CreatedAt = ms(c.CreatedAt)
	return &c
}

func getPolicy(t *testing.T, s registry.Store, name string) (*registry.Policy, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Policy, error) {
		return tx.Policy(ctx, name)
	})
}

// insertPolicies inserts each policy with version 1.
func insertPolicies(t *testing.T, s registry.Store, policies ...*registry.Policy) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, p := range policies {
			if err := tx.InsertPolicy(ctx, p); err != nil {
				return err
			}
			if err := tx.InsertPolicyVersion(ctx, newPolicyVersion(p.Name, 1)); err != nil {
				return err
			}
		}
		return nil
	})
}

func policyName(p registry.Policy) string { return p.Name }

func testPolicy(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getPolicy(t, s, "nope")
			wantNotFound(t, "Policy", err)
			wantUpdateNotFound(t, s, "UpdatePolicy", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdatePolicy(ctx, newPolicy("nope"))
			})
			wantUpdateNotFound(t, s, "DeletePolicy", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeletePolicy(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newPolicy("full")
			full.DefaultVersion, full.LastVersion = 3, 7
			bare := &registry.Policy{Name: "bare"}
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.InsertPolicy(ctx, full); err != nil {
					return err
				}
				return tx.InsertPolicy(ctx, bare)
			})
			for _, want := range []*registry.Policy{storedPolicy(full), storedPolicy(bare)} {
				got, err := getPolicy(t, s, want.Name)
				if err != nil {
					t.Fatalf("Policy(%q): %v", want.Name, err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("Policy(%q) (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertPolicies(t, s, newPolicy("p1"))
			other := newPolicy("p1")
			other.DefaultVersion = 9
			wantUpdateError(t, s, "InsertPolicy of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertPolicy(ctx, other)
			})
			if got, _ := getPolicy(t, s, "p1"); !cmp.Equal(storedPolicy(newPolicy("p1")), got) {
				t.Errorf("policy after a failed insert (-want +got):\n%s", cmp.Diff(storedPolicy(newPolicy("p1")), got))
			}
		}},
		{"update", func(t *testing.T, s registry.Store) {
			insertPolicies(t, s, newPolicy("p1"), newPolicy("p2"))
			changed := newPolicy("p1")
			changed.DefaultVersion, changed.LastVersion, changed.UpdatedAt = 2, 4, at(time.Hour)
			changed.GenerationID = "gen-2"
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdatePolicy(ctx, changed) })
			for _, want := range []*registry.Policy{storedPolicy(changed), storedPolicy(newPolicy("p2"))} {
				if got, _ := getPolicy(t, s, want.Name); !cmp.Equal(want, got) {
					t.Errorf("Policy(%q) after update (-want +got):\n%s", want.Name, cmp.Diff(want, got))
				}
			}
		}},
		{"delete removes versions", func(t *testing.T, s registry.Store) {
			insertPolicies(t, s, newPolicy("p1"), newPolicy("p2"))
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for id := int64(2); id <= 3; id++ {
					if err := tx.InsertPolicyVersion(ctx, newPolicyVersion("p1", id)); err != nil {
						return err
					}
				}
				return tx.DeletePolicy(ctx, "p1")
			})
			_, err := getPolicy(t, s, "p1")
			wantNotFound(t, "deleted policy", err)
			for id := int64(1); id <= 3; id++ {
				_, err := get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.PolicyVersion, error) {
					return tx.PolicyVersion(ctx, "p1", id)
				})
				wantNotFound(t, fmt.Sprintf("version %d of the deleted policy", id), err)
			}
			// A policy of the same name starts without the old versions.
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.InsertPolicy(ctx, newPolicy("p1")) })
			versions := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.PolicyVersion, error) {
				return tx.ListPolicyVersions(ctx, "p1")
			})
			if len(versions) != 0 {
				t.Errorf("versions of a recreated policy: got %v, want none", versions)
			}
			versions = mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.PolicyVersion, error) {
				return tx.ListPolicyVersions(ctx, "p2")
			})
			if d := diff([]registry.PolicyVersion{*storedPolicyVersion(newPolicyVersion("p2", 1))}, versions); d != "" {
				t.Errorf("versions of the other policy (-want +got):\n%s", d)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []registry.Policy
			for _, name := range slices.Backward(sortedNames) {
				insertPolicies(t, s, newPolicy(name))
			}
			for _, name := range sortedNames {
				want = append(want, *storedPolicy(newPolicy(name)))
			}
			t.Run("ascending", func(t *testing.T) {
				checkPages(t, s, want, policyName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Policy, error) {
					return tx.ListPolicies(ctx, true, p)
				})
			})
			t.Run("descending", func(t *testing.T) {
				checkPages(t, s, reversed(want), policyName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.Policy, error) {
					return tx.ListPolicies(ctx, false, p)
				})
			})
		}},
	})
}

func testPolicyVersion(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"default document", func(t *testing.T, s registry.Store) {
			insertPolicies(t, s, newPolicy("p1"), newPolicy("p2"))
			defaultDoc := func(name string) (string, error) {
				return get(t, s, func(ctx context.Context, tx registry.Tx) (string, error) {
					return tx.DefaultPolicyDocument(ctx, name)
				})
			}
			if doc, err := defaultDoc("p1"); err != nil || doc != newPolicyVersion("p1", 1).Document {
				t.Errorf("DefaultPolicyDocument(p1) = %v, %v; want version 1's", doc, err)
			}
			// The default moves to a newer version: its document follows.
			changed := newPolicy("p1")
			changed.DefaultVersion, changed.LastVersion = 2, 2
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.InsertPolicyVersion(ctx, newPolicyVersion("p1", 2)); err != nil {
					return err
				}
				return tx.UpdatePolicy(ctx, changed)
			})
			if doc, err := defaultDoc("p1"); err != nil || doc != newPolicyVersion("p1", 2).Document {
				t.Errorf("DefaultPolicyDocument(p1) after the default moved = %v, %v; want version 2's", doc, err)
			}
			_, err := defaultDoc("nope")
			wantNotFound(t, "DefaultPolicyDocument(nope)", err)
			// Outside a transaction (Store.Read), the same answers.
			var doc string
			if err := s.Read(t.Context(), func(tx registry.Tx) (err error) {
				doc, err = tx.DefaultPolicyDocument(t.Context(), "p1")
				return err
			}); err != nil || doc != newPolicyVersion("p1", 2).Document {
				t.Errorf("DefaultPolicyDocument(p1) in Read = %q, %v; want version 2's", doc, err)
			}
			err = s.Read(t.Context(), func(tx registry.Tx) error {
				_, err := tx.DefaultPolicyDocument(t.Context(), "nope")
				return err
			})
			wantNotFound(t, "DefaultPolicyDocument(nope) in Read", err)
		}},
		{"missing", func(t *testing.T, s registry.Store) {
			insertPolicies(t, s, newPolicy("p1"))
			for _, tc := range []struct {
				policy string
				id     int64
			}{{"p1", 2}, {"nope", 1}} {
				_, err := get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.PolicyVersion, error) {
					return tx.PolicyVersion(ctx, tc.policy, tc.id)
				})
				wantNotFound(t, fmt.Sprintf("PolicyVersion(%q, %d)", tc.policy, tc.id), err)
				wantUpdateNotFound(t, s, fmt.Sprintf("DeletePolicyVersion(%q, %d)", tc.policy, tc.id), func(ctx context.Context, tx registry.Tx) error {
					return tx.DeletePolicyVersion(ctx, tc.policy, tc.id)
				})
			}
			versions := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.PolicyVersion, error) {
				return tx.ListPolicyVersions(ctx, "nope")
			})
			if len(versions) != 0 {
				t.Errorf("versions of a missing policy: got %v, want none", versions)
			}
		}},
		{"insert, list newest first, delete", func(t *testing.T, s registry.Store) {
			insertPolicies(t, s, newPolicy("p1"), newPolicy("p2"))
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				// Out of order, and with a gap: ids are never reused.
				for _, id := range []int64{3, 2, 5, 10} {
					if err := tx.InsertPolicyVersion(ctx, newPolicyVersion("p1", id)); err != nil {
						return err
					}
				}
				return tx.DeletePolicyVersion(ctx, "p1", 5)
			})
			var want []registry.PolicyVersion
			for _, id := range []int64{10, 3, 2, 1} {
				want = append(want, *storedPolicyVersion(newPolicyVersion("p1", id)))
			}
			got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.PolicyVersion, error) {
				return tx.ListPolicyVersions(ctx, "p1")
			})
			if d := diff(want, got); d != "" {
				t.Errorf("ListPolicyVersions (-want +got):\n%s", d)
			}
			for _, w := range want {
				got, err := get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.PolicyVersion, error) {
					return tx.PolicyVersion(ctx, "p1", w.VersionID)
				})
				if err != nil {
					t.Fatalf("PolicyVersion(p1, %d): %v", w.VersionID, err)
				}
				if d := cmp.Diff(&w, got); d != "" {
					t.Errorf("PolicyVersion(p1, %d) (-want +got):\n%s", w.VersionID, d)
				}
			}
			_, err := get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.PolicyVersion, error) {
				return tx.PolicyVersion(ctx, "p1", 5)
			})
			wantNotFound(t, "deleted policy version", err)
		}},
		{"insert taken version", func(t *testing.T, s registry.Store) {
			insertPolicies(t, s, newPolicy("p1"))
			other := newPolicyVersion("p1", 1)
			other.Document = "{}"
			wantUpdateError(t, s, "InsertPolicyVersion of a taken id", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertPolicyVersion(ctx, other)
			})
			got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) (*registry.PolicyVersion, error) {
				return tx.PolicyVersion(ctx, "p1", 1)
			})
			if d := cmp.Diff(storedPolicyVersion(newPolicyVersion("p1", 1)), got); d != "" {
				t.Errorf("policy version after a failed insert (-want +got):\n%s", d)
			}
		}},
	})
}
