package registrytest

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
)

// Populate fills s's registry, through the Service, with some of every
// record a registry holds: a thing type, nested groups, things with
// attributes in a group, a registered JITP CA with a device certificate,
// an issued certificate, a policy with two versions attached to a
// certificate and a group, principals, tags, a provisioning template with
// two versions, a topic rule, a provisioning attempt, a tagged billing
// group holding two things, a tagged role alias and the registration code. For tests of whole-registry operations (registry.Copy).
func Populate(t testing.TB, s *registry.Service) {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("populate: %s: %v", what, err)
		}
	}
	tag := []iot.Tag{{Key: "site", Value: "bilbao"}}
	_, err := s.CreateThingType(ctx, registry.ThingType{Name: "pump", Description: "a pump", SearchableAttributes: []string{"model"}}, tag)
	must("thing type", err)
	_, err = s.CreateThingGroup(ctx, registry.ThingGroup{Name: "plant", Attributes: map[string]string{"city": "bilbao"}}, tag)
	must("group", err)
	_, err = s.CreateThingGroup(ctx, registry.ThingGroup{Name: "line-1", ParentName: "plant"}, nil)
	must("child group", err)
	_, err = s.CreateBillingGroup(ctx, registry.BillingGroup{Name: "plant-costs", Description: "what the plant costs"}, tag)
	must("billing group", err)
	for _, name := range []string{"pump-1", "pump-2", "valve-1"} {
		in := registry.CreateThingInput{Name: name, Attributes: map[string]string{"model": "x" + name}}
		if name != "valve-1" {
			in.TypeName = "pump"
		} else {
			in.BillingGroupName = "plant-costs"
		}
		_, err = s.CreateThing(ctx, in)
		must("thing "+name, err)
	}
	must("member", s.AddThingToThingGroup(ctx, registry.GroupMembership{GroupName: "line-1", ThingName: "pump-1"}))
	must("billing group member", s.AddThingToBillingGroup(ctx, registry.BillingGroupMembership{GroupName: "plant-costs", ThingName: "pump-1"}))
	_, err = s.CreateRoleAlias(ctx, registry.RoleAlias{Alias: "pump-telemetry", RoleARN: "arn:aws:iam::123456789012:role/PumpTelemetry",
		CredentialDurationSeconds: 900}, tag)
	must("role alias", err)
	_, err = s.CreateDomainConfiguration(ctx, registry.DomainConfiguration{Name: "factory", DomainName: "mqtt.factory.example"}, tag)
	must("domain configuration", err)
	must("indexing configuration", s.UpdateIndexingConfiguration(ctx, registry.IndexingUpdate{
		Thing: &registry.IndexingConfiguration{ThingIndexingMode: "REGISTRY"}}))

	body := `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}}}}}`
	_, err = s.CreateProvisioningTemplate(ctx, registry.CreateProvisioningTemplateInput{Name: "jitp", Body: body, Enabled: true, Type: registry.TemplateTypeJITP,
		RoleARN: "arn:aws:iam::123456789012:role/JITP", Tags: tag})
	must("template", err)
	_, err = s.CreateProvisioningTemplateVersion(ctx, "jitp", body, true)
	must("template version", err)
	code, err := s.RegistrationCode(ctx)
	must("registration code", err)
	ca := pkitest.NewRoot(t, "Populate CA")
	key := pkitest.NewKey(t, pki.KeyECP256)
	ver, err := ca.IssueVerification(key.Public(), code, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	must("verification certificate", err)
	reg, err := s.RegisterCACertificate(ctx, registry.RegisterCAInput{CACertificatePEM: pki.EncodeCertificatePEM(ca.Certificate),
		VerificationCertificatePEM: pki.EncodeCertificatePEM(ver), SetAsActive: true, AllowAutoRegistration: true,
		Registration: &registry.RegistrationConfig{TemplateName: "jitp"}, Tags: tag})
	must("CA", err)
	devCert, _ := pkitest.NewClient(t, ca, pkix.Name{CommonName: "pump-2"})
	dev, err := s.RegisterCertificate(ctx, registry.RegisterCertificateInput{CertificatePEM: pki.EncodeCertificatePEM(devCert), CACertificatePEM: pki.EncodeCertificatePEM(ca.Certificate), Status: iot.StatusActive})
	must("device certificate", err)
	issued, err := s.CreateKeysAndCertificate(ctx, true)
	must("issued certificate", err)

	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`
	_, err = s.CreatePolicy(ctx, "device", doc, tag)
	must("policy", err)
	_, _, err = s.CreatePolicyVersion(ctx, "device", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`, true)
	must("policy version", err)
	must("attach to certificate", s.AttachPolicy(ctx, "device", s.Account.CertificateARN(dev.ID)))
	must("attach to group", s.AttachPolicy(ctx, "device", s.Account.ThingGroupARN("plant")))
	must("principal", s.AttachThingPrincipal(ctx, "pump-2", s.Account.CertificateARN(dev.ID), iot.NonExclusiveThing))
	must("principal", s.AttachThingPrincipal(ctx, "pump-1", s.Account.CertificateARN(issued.Certificate.ID), iot.ExclusiveThing))
	must("tag thing", s.TagResource(ctx, s.Account.ThingARN("pump-1"), []iot.Tag{{Key: "owner", Value: "ops"}}))

	_, err = s.CreateTopicRule(ctx, registry.TopicRule{Name: "alerts", SQL: "SELECT * FROM 'plant/+/alert'", TopicPattern: "plant/+/alert",
		Actions: []json.RawMessage{json.RawMessage(`{"republish":{"topic":"alerts/all","roleArn":"arn:aws:iam::123456789012:role/r"}}`)}}, tag)
	must("topic rule", err)
	must("shadow", s.ChangeShadow(ctx, "pump-1", "", func(*registry.StoredShadow) (*registry.StoredShadow, bool, error) {
		return &registry.StoredShadow{Document: []byte(`{"state":{"reported":{"on":true}},"version":1}`), Version: 1}, false, nil
	}))
	must("named shadow", s.ChangeShadow(ctx, "ghost", "config", func(*registry.StoredShadow) (*registry.StoredShadow, bool, error) {
		return &registry.StoredShadow{Document: []byte(`{"state":{"desired":{"x":1}},"version":1}`), Version: 1}, false, nil
	}))
	must("provisioning attempt", s.RecordProvisioningAttempt(ctx, registry.ProvisioningAttempt{At: time.Now(), Kind: "JITP", CAID: reg.ID,
		CertificateID: dev.ID, ThingName: "pump-2", Outcome: registry.AttemptProvisioned, Status: iot.StatusActive}))
}
