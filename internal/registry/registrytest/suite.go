// Package registrytest is the conformance suite of registry.Store: every
// store (internal/sqlite, internal/postgres) passes Run.
//
// Beyond what registry.Store's comments say, the suite pins down these rules,
// so that every store behaves the same:
//
//   - Getters, and the Update and Delete methods of a resource (thing, thing
//     type, thing group, certificate, CA certificate, policy, policy version,
//     provisioning template, template version, registration code, topic
//     rule, billing group, role alias, domain configuration), return an error that errors.Is registry.ErrNotFound when the row
//     does not exist.
//     Attach, Detach, AddThingToGroup, RemoveThingFromGroup, DeleteTags and
//     DeleteAllTags are idempotent. SetThingBillingGroup of a missing thing
//     returns ErrNotFound.
//   - Insert methods fail when the key is taken, and leave the row as it was.
//   - Update and Delete overwrite and remove exactly what they are given:
//     the store keeps Version, LastVersion and the like as the caller sets
//     them. DeleteThing removes the thing's attributes but not its principals
//     or group memberships; DeletePolicy and DeleteProvisioningTemplate remove
//     the versions.
//   - Maps and slices read back non-nil: a thing or group without
//     attributes has an empty map, a thing type without searchable
//     attributes an empty slice.
//   - Times read back at millisecond precision (truncated), as the same
//     instant in any location.
//   - Names and other string keys sort by bytes, as Go compares strings
//     ("B" < "_" < "a"); prefixes match case-sensitively and literally.
//   - Update commits only when fn returns nil; it returns fn's error so that
//     errors.Is sees it. When fn panics, the transaction is rolled back and
//     the panic goes on. A cancelled context fails Update and View with an
//     error that errors.Is context.Canceled.
//   - View never waits for an open Update, nor an Update for an open View.
//     A View sees one snapshot: nothing committed after its first read, and
//     nothing uncommitted. It refuses writes.
//   - Concurrent Updates are serialisable: read-modify-write loses nothing.
package registrytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

// Opener returns a new, empty store for one test. It arranges with t.Cleanup
// for the store to be closed.
type Opener func(t *testing.T) registry.Store

// Run checks a registry.Store implementation against the contract. open is
// called once per subtest and must return an empty store.
func Run(t *testing.T, open func(t *testing.T) registry.Store) {
	areas := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"Transactions", testTransactions},
		{"RegistrationCode", testRegistrationCode},
		{"Thing", testThing},
		{"ThingType", testThingType},
		{"ThingGroup", testThingGroup},
		{"ThingGroupMembership", testThingGroupMembership},
		{"Certificate", testCertificate},
		{"CACertificate", testCACertificate},
		{"Policy", testPolicy},
		{"PolicyVersion", testPolicyVersion},
		{"PolicyTarget", testPolicyTarget},
		{"ThingPrincipal", testThingPrincipal},
		{"Tag", testTag},
		{"ProvisioningTemplate", testProvisioningTemplate},
		{"ProvisioningTemplateVersion", testProvisioningTemplateVersion},
		{"ProvisioningAttempt", testProvisioningAttempt},
		{"TopicRule", testTopicRule},
		{"Shadow", testShadow},
		{"BillingGroup", testBillingGroup},
		{"BillingGroupMembership", testBillingGroupMembership},
		{"RoleAlias", testRoleAlias},
		{"DomainConfiguration", testDomainConfiguration},
		{"Setting", testSetting},
	}
	for _, a := range areas {
		t.Run(a.name, func(t *testing.T) { a.run(t, open) })
	}
}

// subtest is one named check run against a fresh store.
type subtest struct {
	name string
	run  func(t *testing.T, s registry.Store)
}

func runAll(t *testing.T, open Opener, tests []subtest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// txFunc is a transaction body with the test's context at hand.
type txFunc func(ctx context.Context, tx registry.Tx) error

// update runs fn in s.Update and fails the test if it returns an error.
func update(t *testing.T, s registry.Store, fn txFunc) {
	t.Helper()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx registry.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in s.View and fails the test if it returns an error.
func view(t *testing.T, s registry.Store, fn txFunc) {
	t.Helper()
	ctx := t.Context()
	if err := s.View(ctx, func(tx registry.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// get runs a getter in a View and returns its result and error.
func get[T any](t *testing.T, s registry.Store, fn func(context.Context, registry.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	var err error
	ctx := t.Context()
	if verr := s.View(ctx, func(tx registry.Tx) error {
		v, err = fn(ctx, tx)
		return nil
	}); verr != nil {
		t.Fatalf("View: %v", verr)
	}
	return v, err
}

// mustGet is get for a call that must succeed.
func mustGet[T any](t *testing.T, s registry.Store, fn func(context.Context, registry.Tx) (T, error)) T {
	t.Helper()
	v, err := get(t, s, fn)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	return v
}

// wantNotFound checks that err is registry.ErrNotFound, possibly wrapped.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("%s: got error %v, want one that errors.Is registry.ErrNotFound", what, err)
	}
}

// wantError checks that err is an error, and not ErrNotFound.
func wantError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want one", what)
	} else if errors.Is(err, registry.ErrNotFound) {
		t.Errorf("%s: got ErrNotFound (%v), want another error", what, err)
	}
}

// wantUpdateError runs fn in s.Update and checks that the Update fails.
func wantUpdateError(t *testing.T, s registry.Store, what string, fn txFunc) {
	t.Helper()
	ctx := t.Context()
	err := s.Update(ctx, func(tx registry.Tx) error { return fn(ctx, tx) })
	wantError(t, what, err)
}

// wantUpdateNotFound runs fn in s.Update and checks that it fails with ErrNotFound.
func wantUpdateNotFound(t *testing.T, s registry.Store, what string, fn txFunc) {
	t.Helper()
	ctx := t.Context()
	err := s.Update(ctx, func(tx registry.Tx) error { return fn(ctx, tx) })
	wantNotFound(t, what, err)
}

// diff compares two slices with cmp, treating nil and empty as equal at the
// top level only: a listing may return either when it finds nothing.
func diff[T any](want, got []T, opts ...cmp.Option) string {
	if len(want) == 0 && len(got) == 0 {
		return ""
	}
	return cmp.Diff(want, got, opts...)
}

// t0 is a time with sub-millisecond digits, which a store drops.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.UTC)

// at returns t0 plus d, in a zone other than UTC: a store keeps the instant,
// not the location.
func at(d time.Duration) time.Time {
	return t0.Add(d).In(time.FixedZone("UTC+05:30", 5*3600+30*60))
}

// ms is what a store returns for tm: tm truncated to the millisecond.
func ms(tm time.Time) time.Time { return tm.Truncate(time.Millisecond) }

// certID returns a certificate id (64 hex digits) derived from seed.
func certID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// checkPages walks a listing with every page size from 1 to len(want)+1, each
// page in its own View starting after the key of the previous page's last
// row, and checks that the pages hold exactly want, in order. It also checks
// that starting after each key yields the rest of want.
func checkPages[T any](t *testing.T, s registry.Store, want []T, key func(T) string,
	list func(ctx context.Context, tx registry.Tx, p registry.Page) ([]T, error)) {
	t.Helper()
	for size := 1; size <= len(want)+1; size++ {
		var all []T
		p := registry.Page{Limit: size}
		for pages := 0; ; pages++ {
			if pages > len(want)+1 {
				t.Fatalf("page size %d: more than %d pages; is Page.After ignored?", size, len(want)+1)
			}
			got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]T, error) { return list(ctx, tx, p) })
			if len(got) > size {
				t.Fatalf("page size %d after %q: got %d rows", size, p.After, len(got))
			}
			all = append(all, got...)
			if len(got) < size {
				break
			}
			p.After = key(got[len(got)-1])
		}
		if d := diff(want, all); d != "" {
			t.Errorf("pages of size %d (-want +got):\n%s", size, d)
		}
	}
	for i := range want {
		p := registry.Page{After: key(want[i]), Limit: len(want) + 1}
		got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]T, error) { return list(ctx, tx, p) })
		if d := diff(want[i+1:], got); d != "" {
			t.Errorf("after %q (-want +got):\n%s", p.After, d)
		}
	}
}

// keys returns the key of each row.
func keys[T any](rows []T, key func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = key(r)
	}
	return out
}

func ident(s string) string { return s }

// reversed returns a reversed copy of s.
func reversed[T any](s []T) []T {
	c := slices.Clone(s)
	slices.Reverse(c)
	return c
}
