package registry_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// PrincipalContext answers from its cache only while nothing changed: every
// change made through the Service shows in the next answer.
func TestPrincipalContextSeesEveryChange(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := &registry.Service{Store: db, Account: iot.Account{ID: "123456789012", Region: "us-east-1"}, IssuingCA: pkitest.NewRoot(t, "issuer")}

	issued, err := s.CreateKeysAndCertificate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	id := issued.Certificate.ID
	arn := s.Account.CertificateARN(id)
	policyNames := func() []string {
		t.Helper()
		pc, err := s.PrincipalContext(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range pc.Policies {
			names = append(names, p.Name+"="+p.Document)
		}
		return names
	}
	const allow = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`
	const deny = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Connect","Resource":"*"}]}`
	if got := policyNames(); len(got) != 0 {
		t.Fatalf("policies %v, want none", got)
	}
	if got := policyNames(); len(got) != 0 { // from the cache
		t.Fatalf("policies %v, want none", got)
	}
	if _, err := s.CreatePolicy(ctx, "p", allow, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachPolicy(ctx, "p", arn); err != nil {
		t.Fatal(err)
	}
	if got := policyNames(); len(got) != 1 || got[0] != "p="+allow {
		t.Fatalf("after AttachPolicy: %v", got)
	}
	if _, _, err := s.CreatePolicyVersion(ctx, "p", deny, true); err != nil {
		t.Fatal(err)
	}
	if got := policyNames(); len(got) != 1 || got[0] != "p="+deny {
		t.Fatalf("after a new default version: %v", got)
	}
	if err := s.UpdateCertificate(ctx, id, iot.StatusInactive); err != nil {
		t.Fatal(err)
	}
	pc, err := s.PrincipalContext(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if pc.Certificate.Status != iot.StatusInactive {
		t.Fatalf("after UpdateCertificate: status %s", pc.Certificate.Status)
	}
	if err := s.DetachPolicy(ctx, "p", arn); err != nil {
		t.Fatal(err)
	}
	if got := policyNames(); len(got) != 0 {
		t.Fatalf("after DetachPolicy: %v", got)
	}
}

// viewCounter counts the read transactions a Service runs.
type viewCounter struct {
	registry.Store
	views atomic.Int64
}

func (c *viewCounter) View(ctx context.Context, fn func(registry.Tx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// Writes that no principal context reads (a provisioning attempt, which JITR
// reconnects and failed JITPs record; the registration code; tags), and
// changes that failed and rolled back, leave every cached context valid:
// the next connect of every device is still served without the store.
func TestPrincipalCacheKeptByUnrelatedWrites(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store := &viewCounter{Store: db}
	s := &registry.Service{Store: store, Account: iot.Account{ID: "123456789012", Region: "us-east-1"}, IssuingCA: pkitest.NewRoot(t, "issuer")}
	issued, err := s.CreateKeysAndCertificate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	id := issued.Certificate.ID
	if _, err := s.CreateThing(ctx, registry.CreateThingInput{Name: "t1"}); err != nil {
		t.Fatal(err)
	}

	pending, _ := pkitest.NewClient(t, pkitest.NewRoot(t, "jitr"), pkix.Name{CommonName: "pending"})
	for _, tc := range []struct {
		name  string
		write func() error
	}{
		{"provisioning attempt", func() error {
			return s.RecordProvisioningAttempt(ctx, registry.ProvisioningAttempt{Kind: "JITR", CAID: "ca", CertificateID: "c", Outcome: registry.AttemptRegistered})
		}},
		{"registration code", func() error { _, err := s.RegistrationCode(ctx); return err }},
		{"JITR registration and reconnects", func() error {
			// A new pending certificate, then the same device reconnecting
			// before it is activated.
			for _, cert := range []*x509.Certificate{pending, pending} {
				if _, _, err := s.RegisterPending(ctx, cert, &registry.CACertificate{ID: "ca", Mode: "DEFAULT"}); err != nil {
					return err
				}
			}
			return nil
		}},
		{"tag", func() error {
			return s.TagResource(ctx, s.Account.ThingARN("t1"), []iot.Tag{{Key: "k", Value: "v"}})
		}},
		{"failed change", func() error {
			// Found missing inside the transaction, which rolls back.
			if err := s.AttachPolicy(ctx, "no-such-policy", s.Account.CertificateARN(id)); !iot.IsCode(err, iot.ResourceNotFound) {
				return fmt.Errorf("attaching a missing policy: %v, want ResourceNotFoundException", err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.PrincipalContext(ctx, id); err != nil { // cached from here on
				t.Fatal(err)
			}
			if err := tc.write(); err != nil {
				t.Fatal(err)
			}
			before := store.views.Load()
			if _, err := s.PrincipalContext(ctx, id); err != nil {
				t.Fatal(err)
			}
			if n := store.views.Load() - before; n != 0 {
				t.Errorf("after the %s the principal context was read again (%d reads): the cache was dropped", tc.name, n)
			}
		})
	}
}

// Two Services on one store (nodes sharing a PostgreSQL database, here one
// SQLite file): with SharedStore, one sees the other's changes at once;
// with CacheSharedStore it caches, and ChangedElsewhere drops the cache.
func TestPrincipalContextOfASharedStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iotcore.db")
	open := func() *sqlite.DB {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	acct := iot.Account{ID: "123456789012", Region: "us-east-1"}
	a := &registry.Service{Store: open(), Account: acct, IssuingCA: pkitest.NewRoot(t, "issuer"), SharedStore: true}
	b := &registry.Service{Store: open(), Account: acct, SharedStore: true}
	issued, err := a.CreateKeysAndCertificate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	id := issued.Certificate.ID
	status := func(s *registry.Service) string {
		t.Helper()
		pc, err := s.PrincipalContext(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return pc.Certificate.Status
	}
	if got := status(b); got != iot.StatusActive {
		t.Fatalf("status %s", got)
	}
	if err := a.UpdateCertificate(ctx, id, iot.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	if got := status(b); got != iot.StatusRevoked {
		t.Errorf("the other node still sees %s after a revocation", got)
	}

	b.CacheSharedStore = true
	if err := a.UpdateCertificate(ctx, id, iot.StatusInactive); err != nil {
		t.Fatal(err)
	}
	_ = status(b) // cached now
	if err := a.UpdateCertificate(ctx, id, iot.StatusActive); err != nil {
		t.Fatal(err)
	}
	b.ChangedElsewhere([]registry.Event{{Kind: registry.CertificateChanged, ID: id}})
	if got := status(b); got != iot.StatusActive {
		t.Errorf("after ChangedElsewhere the other node sees %s", got)
	}
}
