package registry_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/registry/registrytest"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// Copy moves a whole registry into an empty store, where it reads back as
// it was (Copy checks that itself before committing), and refuses a store
// that holds a registry already.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	open := func() *sqlite.DB {
		db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iotcore.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	acct := iot.Account{ID: "123456789012", Region: "us-east-1"}
	from, to := open(), open()
	src := &registry.Service{Store: from, Account: acct, IssuingCA: pkitest.NewRoot(t, "issuer")}
	registrytest.Populate(t, src)

	n, err := registry.Copy(ctx, from, to, acct)
	if err != nil {
		t.Fatal(err)
	}
	want := registry.CopyCounts{Things: 3, ThingTypes: 1, ThingGroups: 2, GroupMembers: 1, Certificates: 2, CACertificates: 1,
		Policies: 1, PolicyVersions: 2, PolicyTargets: 2, ThingPrincipals: 2, Tags: 10, ProvisioningTemplates: 1,
		ProvisioningTemplateVers: 2, TopicRules: 1, ProvisioningAttempts: 1, Shadows: 2, RegistrationCode: true,
		BillingGroups: 1, BillingGroupMembers: 2, RoleAliases: 1, DomainConfigurations: 1, IndexingConfiguration: true}
	if n != want {
		t.Errorf("copied %+v\nwant   %+v", n, want)
	}
	// The copy serves as the original: the device's policies and thing.
	dst := &registry.Service{Store: to, Account: acct}
	certs, _, err := dst.ListCertificates(ctx, registry.CertificateFilter{}, registry.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs {
		pc, err := dst.PrincipalContext(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pc.Policies) == 0 && len(pc.Things) == 0 {
			t.Errorf("certificate %s lost its attachments in the copy", c.ID)
		}
	}

	// The billing group keeps its things and tags, the role alias its role.
	members, _, err := dst.ListThingsInBillingGroup(ctx, "plant-costs", registry.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"pump-1", "valve-1"}, members); d != "" {
		t.Errorf("things in the copied billing group (-want +got):\n%s", d)
	}
	tags, _, err := dst.ListTags(ctx, registry.BillingGroupARN(acct, "plant-costs"), registry.PageRequest{})
	if err != nil || len(tags) != 1 {
		t.Errorf("tags of the copied billing group: %v, %v; want one", tags, err)
	}
	alias, err := dst.RoleAlias(ctx, "pump-telemetry")
	if err != nil {
		t.Fatal(err)
	}
	if alias.RoleARN != "arn:aws:iam::123456789012:role/PumpTelemetry" || alias.CredentialDurationSeconds != 900 {
		t.Errorf("copied role alias: %+v", alias)
	}

	if _, err := registry.Copy(ctx, from, to, acct); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("a copy into a registry that is not empty: %v", err)
	}
}
