package registry_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// CACertificateTags, which the gate reads at every just-in-time
// provisioning, answers what ListTags answers for the CA, and nothing for
// a CA that does not exist.
func TestCACertificateTags(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	ca := registerCA(t, s, pkitest.NewRoot(t, "factory"), nil)
	if tags, err := s.CACertificateTags(ctx, ca.ID); err != nil || len(tags) != 0 {
		t.Fatalf("an untagged CA: %v, %v; want none", tags, err)
	}
	want := []iot.Tag{{Key: "iotcore:jitp-first-connection", Value: "accept"}, {Key: "line", Value: "3"}}
	if err := s.TagResource(ctx, s.Account.CACertificateARN(ca.ID), want); err != nil {
		t.Fatal(err)
	}
	got, err := s.CACertificateTags(ctx, ca.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CACertificateTags (-want +got):\n%s", d)
	}
	if tags, err := s.CACertificateTags(ctx, "0000"); err != nil || len(tags) != 0 {
		t.Errorf("an unknown CA: %v, %v; want none, no error", tags, err)
	}
}
