package server_test

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/template"
)

const provisioningRole = "arn:aws:iam::123456789012:role/Provisioning"

// fleetTemplate is a fleet-provisioning body whose thing name is prefix
// followed by the SerialNumber parameter.
func fleetTemplate(prefix string) string {
	return `{"Parameters":{"SerialNumber":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{` +
		`"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Fn::Join":["",["` + prefix + `",{"Ref":"SerialNumber"}]]}}},` +
		`"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"}}}}}`
}

// brokenTemplate refers to a misspelt certificate parameter.
const brokenTemplate = `{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::Contry"}}}}}`

// notJITPTemplate parses, but cannot provision a device just in time: JITP
// supplies no value for ThingName.
const notJITPTemplate = `{"Parameters":{"ThingName":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"ThingName"}}}}}`

func (ts *testServer) ptCreate(t *testing.T, name, body string, typ types.TemplateType, enabled bool) *iot.CreateProvisioningTemplateOutput {
	t.Helper()
	return must[*iot.CreateProvisioningTemplateOutput](t)(ts.client.CreateProvisioningTemplate(context.Background(), &iot.CreateProvisioningTemplateInput{
		TemplateName: aws.String(name), TemplateBody: aws.String(body), ProvisioningRoleArn: aws.String(provisioningRole),
		Type: typ, Enabled: aws.Bool(enabled),
	}))
}

func (ts *testServer) ptDescribe(t *testing.T, name string) *iot.DescribeProvisioningTemplateOutput {
	t.Helper()
	return must[*iot.DescribeProvisioningTemplateOutput](t)(ts.client.DescribeProvisioningTemplate(context.Background(),
		&iot.DescribeProvisioningTemplateInput{TemplateName: aws.String(name)}))
}

// ptVersions lists a template's versions with the paginator, one per page,
// as "id" or "id*" for the default.
func (ts *testServer) ptVersions(t *testing.T, name string) []string {
	t.Helper()
	var out []string
	p := iot.NewListProvisioningTemplateVersionsPaginator(ts.client, &iot.ListProvisioningTemplateVersionsInput{TemplateName: aws.String(name), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page := must[*iot.ListProvisioningTemplateVersionsOutput](t)(p.NextPage(context.Background()))
		for _, v := range page.Versions {
			s := fmt.Sprint(*v.VersionId)
			if v.IsDefaultVersion {
				s += "*"
			}
			out = append(out, s)
		}
	}
	return out
}

func TestProvisioningTemplateLifecycle(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	const arn = "arn:aws:iot:us-east-1:123456789012:provisioningtemplate/fleet"
	hook := &types.ProvisioningHook{TargetArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:hook"), PayloadVersion: aws.String("2020-04-01")}
	out := must[*iot.CreateProvisioningTemplateOutput](t)(ts.client.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName: aws.String("fleet"), Description: aws.String("the fleet"), TemplateBody: aws.String(fleetTemplate("v1-")),
		ProvisioningRoleArn: aws.String(provisioningRole), Enabled: aws.Bool(true), PreProvisioningHook: hook,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}},
	}))
	if *out.TemplateArn != arn || *out.TemplateName != "fleet" || *out.DefaultVersionId != 1 {
		t.Fatalf("CreateProvisioningTemplate = %s %s %d", *out.TemplateArn, *out.TemplateName, *out.DefaultVersionId)
	}
	d := ts.ptDescribe(t, "fleet")
	if *d.TemplateArn != arn || *d.Description != "the fleet" || *d.TemplateBody != fleetTemplate("v1-") || !*d.Enabled ||
		d.Type != types.TemplateTypeFleetProvisioning || *d.ProvisioningRoleArn != provisioningRole || *d.DefaultVersionId != 1 ||
		d.PreProvisioningHook == nil || *d.PreProvisioningHook.TargetArn != *hook.TargetArn || *d.PreProvisioningHook.PayloadVersion != "2020-04-01" ||
		d.CreationDate == nil || d.LastModifiedDate == nil {
		t.Fatalf("DescribeProvisioningTemplate = %+v", d)
	}
	tags := must[*iot.ListTagsForResourceOutput](t)(ts.client.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" {
		t.Fatalf("tags = %+v", tags.Tags)
	}
	must[*iot.TagResourceOutput](t)(ts.client.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}))

	// Conflicts and rules.
	_, err := ts.client.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName: aws.String("fleet"), TemplateBody: aws.String(fleetTemplate("")), ProvisioningRoleArn: aws.String(provisioningRole),
	})
	wantAPIError(t, err, "ResourceAlreadyExistsException")
	_, err = ts.client.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName: aws.String("jitp-hook"), TemplateBody: aws.String(jitpTemplate), ProvisioningRoleArn: aws.String(provisioningRole),
		Type: types.TemplateTypeJitp, PreProvisioningHook: hook,
	})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = ts.client.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName: aws.String("odd"), TemplateBody: aws.String(fleetTemplate("")), ProvisioningRoleArn: aws.String(provisioningRole), Type: "BULK",
	})
	wantAPIError(t, err, "InvalidRequestException")

	// A JITP template (FLEET_PROVISIONING is the default above), and listing.
	ts.ptCreate(t, "jitp", jitpTemplate, types.TemplateTypeJitp, false)
	var listed []string
	p := iot.NewListProvisioningTemplatesPaginator(ts.client, &iot.ListProvisioningTemplatesInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		for _, s := range must[*iot.ListProvisioningTemplatesOutput](t)(p.NextPage(ctx)).Templates {
			listed = append(listed, fmt.Sprintf("%s %s %v %s", *s.TemplateName, s.Type, *s.Enabled, *s.TemplateArn))
		}
	}
	if want := []string{"fleet FLEET_PROVISIONING true " + arn, "jitp JITP false arn:aws:iot:us-east-1:123456789012:provisioningtemplate/jitp"}; !slices.Equal(listed, want) {
		t.Fatalf("ListProvisioningTemplates = %q, want %q", listed, want)
	}

	// Versions: created as default or not, described, listed.
	v2 := must[*iot.CreateProvisioningTemplateVersionOutput](t)(ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{
		TemplateName: aws.String("fleet"), TemplateBody: aws.String(fleetTemplate("v2-")),
	}))
	if *v2.VersionId != 2 || v2.IsDefaultVersion || *v2.TemplateArn != arn || *v2.TemplateName != "fleet" {
		t.Fatalf("CreateProvisioningTemplateVersion = %+v", v2)
	}
	v3 := must[*iot.CreateProvisioningTemplateVersionOutput](t)(ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{
		TemplateName: aws.String("fleet"), TemplateBody: aws.String(fleetTemplate("v3-")), SetAsDefault: true,
	}))
	if *v3.VersionId != 3 || !v3.IsDefaultVersion {
		t.Fatalf("CreateProvisioningTemplateVersion with setAsDefault = %+v", v3)
	}
	if d := ts.ptDescribe(t, "fleet"); *d.DefaultVersionId != 3 || *d.TemplateBody != fleetTemplate("v3-") {
		t.Fatalf("after setAsDefault: default %d, body %s", *d.DefaultVersionId, *d.TemplateBody)
	}
	dv := must[*iot.DescribeProvisioningTemplateVersionOutput](t)(ts.client.DescribeProvisioningTemplateVersion(ctx, &iot.DescribeProvisioningTemplateVersionInput{
		TemplateName: aws.String("fleet"), VersionId: aws.Int32(2),
	}))
	if *dv.VersionId != 2 || dv.IsDefaultVersion || *dv.TemplateBody != fleetTemplate("v2-") || dv.CreationDate == nil {
		t.Fatalf("DescribeProvisioningTemplateVersion = %+v", dv)
	}
	if got, want := ts.ptVersions(t, "fleet"), []string{"1", "2", "3*"}; !slices.Equal(got, want) {
		t.Fatalf("versions %q, want %q", got, want)
	}

	// The default version cannot be deleted; others can.
	_, err = ts.client.DeleteProvisioningTemplateVersion(ctx, &iot.DeleteProvisioningTemplateVersionInput{TemplateName: aws.String("fleet"), VersionId: aws.Int32(3)})
	wantAPIError(t, err, "DeleteConflictException")
	must[*iot.DeleteProvisioningTemplateVersionOutput](t)(ts.client.DeleteProvisioningTemplateVersion(ctx, &iot.DeleteProvisioningTemplateVersionInput{TemplateName: aws.String("fleet"), VersionId: aws.Int32(1)}))
	for _, id := range []int32{1, 9} {
		_, err = ts.client.DescribeProvisioningTemplateVersion(ctx, &iot.DescribeProvisioningTemplateVersionInput{TemplateName: aws.String("fleet"), VersionId: aws.Int32(id)})
		wantAPIError(t, err, "ResourceNotFoundException")
		_, err = ts.client.DeleteProvisioningTemplateVersion(ctx, &iot.DeleteProvisioningTemplateVersionInput{TemplateName: aws.String("fleet"), VersionId: aws.Int32(id)})
		wantAPIError(t, err, "ResourceNotFoundException")
	}

	// UpdateProvisioningTemplate sets the default version, and the rest.
	must[*iot.UpdateProvisioningTemplateOutput](t)(ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{
		TemplateName: aws.String("fleet"), DefaultVersionId: aws.Int32(2),
	}))
	if d := ts.ptDescribe(t, "fleet"); *d.DefaultVersionId != 2 || *d.TemplateBody != fleetTemplate("v2-") || *d.Description != "the fleet" || !*d.Enabled {
		t.Fatalf("after setting the default version: %+v", d)
	}
	_, err = ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{TemplateName: aws.String("fleet"), DefaultVersionId: aws.Int32(1)})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{
		TemplateName: aws.String("fleet"), PreProvisioningHook: hook, RemovePreProvisioningHook: aws.Bool(true),
	})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{TemplateName: aws.String("jitp"), PreProvisioningHook: hook})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{TemplateName: aws.String("nope"), Enabled: aws.Bool(true)})
	wantAPIError(t, err, "ResourceNotFoundException")
	must[*iot.UpdateProvisioningTemplateOutput](t)(ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{
		TemplateName: aws.String("fleet"), Description: aws.String("renamed"), Enabled: aws.Bool(false),
		ProvisioningRoleArn: aws.String("arn:aws:iam::123456789012:role/Other"), RemovePreProvisioningHook: aws.Bool(true),
	}))
	if d := ts.ptDescribe(t, "fleet"); *d.Description != "renamed" || *d.Enabled || *d.ProvisioningRoleArn != "arn:aws:iam::123456789012:role/Other" ||
		d.PreProvisioningHook != nil || d.Type != types.TemplateTypeFleetProvisioning || *d.DefaultVersionId != 2 {
		t.Fatalf("after UpdateProvisioningTemplate: %+v", d)
	}

	// At most five versions: 2 and 3 exist, 4 to 6 fit, 7 does not.
	for range 3 {
		must[*iot.CreateProvisioningTemplateVersionOutput](t)(ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{
			TemplateName: aws.String("fleet"), TemplateBody: aws.String(fleetTemplate("vn-")),
		}))
	}
	_, err = ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{TemplateName: aws.String("fleet"), TemplateBody: aws.String(fleetTemplate("v7-"))})
	wantAPIError(t, err, "VersionsLimitExceededException")
	if got, want := ts.ptVersions(t, "fleet"), []string{"2*", "3", "4", "5", "6"}; !slices.Equal(got, want) {
		t.Fatalf("versions %q, want %q", got, want)
	}
	_, err = ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{TemplateName: aws.String("nope"), TemplateBody: aws.String(fleetTemplate(""))})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = ts.client.ListProvisioningTemplateVersions(ctx, &iot.ListProvisioningTemplateVersionsInput{TemplateName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Deleting takes the versions and tags along.
	must[*iot.DeleteProvisioningTemplateOutput](t)(ts.client.DeleteProvisioningTemplate(ctx, &iot.DeleteProvisioningTemplateInput{TemplateName: aws.String("fleet")}))
	_, err = ts.client.DescribeProvisioningTemplate(ctx, &iot.DescribeProvisioningTemplateInput{TemplateName: aws.String("fleet")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = ts.client.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = ts.client.DeleteProvisioningTemplate(ctx, &iot.DeleteProvisioningTemplateInput{TemplateName: aws.String("fleet")})
	wantAPIError(t, err, "ResourceNotFoundException")
	ts.ptCreate(t, "fleet", fleetTemplate("again-"), "", true)
	if got, want := ts.ptVersions(t, "fleet"), []string{"1*"}; !slices.Equal(got, want) {
		t.Fatalf("versions of a recreated template %q, want %q", got, want)
	}
}

// TestBrokenTemplatesAreRefusedWhenSaved checks that every way of saving a
// template body parses it and answers InvalidRequestException with the
// place and the problem, and saves nothing.
func TestBrokenTemplatesAreRefusedWhenSaved(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	_, caID := ts.registerCA(t, "Template CA", true, true)
	ts.ptCreate(t, "jitp", jitpTemplate, types.TemplateTypeJitp, true)
	ts.ptCreate(t, "fleet", fleetTemplate(""), types.TemplateTypeFleetProvisioning, true)
	const wantPath = "Resources.thing.Properties.ThingName: "
	role := aws.String("arn:aws:iam::123456789012:role/JITPRole")

	// registerWith registers another CA with a registration config.
	other := pkitest.NewRoot(t, "Other CA")
	registerWith := func(rc *types.RegistrationConfig) error {
		code := must[*iot.GetRegistrationCodeOutput](t)(ts.client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{}))
		_, err := ts.client.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{
			CaCertificate:           aws.String(pki.EncodeCertificatePEM(other.Certificate)),
			VerificationCertificate: aws.String(pki.EncodeCertificatePEM(verificationCert(t, other, *code.RegistrationCode))),
			SetAsActive:             true, AllowAutoRegistration: true, RegistrationConfig: rc,
		})
		return err
	}
	updateWith := func(rc *types.RegistrationConfig) error {
		_, err := ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{CertificateId: aws.String(caID), RegistrationConfig: rc})
		return err
	}
	for _, tc := range []struct {
		name    string
		save    func() error
		code    string
		message string // a prefix
	}{
		{"CreateProvisioningTemplate", func() error {
			_, err := ts.client.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
				TemplateName: aws.String("broken"), TemplateBody: aws.String(brokenTemplate), ProvisioningRoleArn: aws.String(provisioningRole),
			})
			return err
		}, "InvalidRequestException", wantPath},
		{"CreateProvisioningTemplate of a JITP template JITP cannot use", func() error {
			_, err := ts.client.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
				TemplateName: aws.String("broken"), TemplateBody: aws.String(notJITPTemplate), ProvisioningRoleArn: aws.String(provisioningRole), Type: types.TemplateTypeJitp,
			})
			return err
		}, "InvalidRequestException", "Parameters.ThingName: "},
		{"CreateProvisioningTemplateVersion", func() error {
			_, err := ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{TemplateName: aws.String("fleet"), TemplateBody: aws.String(brokenTemplate)})
			return err
		}, "InvalidRequestException", wantPath},
		{"CreateProvisioningTemplateVersion of a JITP template", func() error {
			_, err := ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{TemplateName: aws.String("jitp"), TemplateBody: aws.String(notJITPTemplate)})
			return err
		}, "InvalidRequestException", "Parameters.ThingName: "},
		{"RegisterCACertificate with templateBody", func() error {
			return registerWith(&types.RegistrationConfig{TemplateBody: aws.String(brokenTemplate), RoleArn: role})
		}, "InvalidRequestException", wantPath},
		{"RegisterCACertificate with a template JITP cannot use", func() error {
			return registerWith(&types.RegistrationConfig{TemplateBody: aws.String(notJITPTemplate), RoleArn: role})
		}, "InvalidRequestException", "Parameters.ThingName: "},
		{"RegisterCACertificate naming a missing template", func() error {
			return registerWith(&types.RegistrationConfig{TemplateName: aws.String("nope")})
		}, "ResourceNotFoundException", ""},
		{"RegisterCACertificate naming a fleet-provisioning template", func() error {
			return registerWith(&types.RegistrationConfig{TemplateName: aws.String("fleet")})
		}, "InvalidRequestException", ""},
		{"UpdateCACertificate with templateBody", func() error {
			return updateWith(&types.RegistrationConfig{TemplateBody: aws.String(brokenTemplate), RoleArn: role})
		}, "InvalidRequestException", wantPath},
		{"UpdateCACertificate naming a missing template", func() error {
			return updateWith(&types.RegistrationConfig{TemplateName: aws.String("nope")})
		}, "ResourceNotFoundException", ""},
		{"UpdateCACertificate naming a fleet-provisioning template", func() error {
			return updateWith(&types.RegistrationConfig{TemplateName: aws.String("fleet")})
		}, "InvalidRequestException", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, tc.save(), tc.code)
			if !strings.HasPrefix(msg, tc.message) {
				t.Errorf("message %q, want it to start with %q", msg, tc.message)
			}
			t.Logf("message: %s", msg)
		})
	}
	// Nothing was saved.
	if got, want := ts.ptVersions(t, "fleet"), []string{"1*"}; !slices.Equal(got, want) {
		t.Errorf("fleet versions %q, want %q", got, want)
	}
	if got, want := ts.ptVersions(t, "jitp"), []string{"1*"}; !slices.Equal(got, want) {
		t.Errorf("jitp versions %q, want %q", got, want)
	}
	list := must[*iot.ListProvisioningTemplatesOutput](t)(ts.client.ListProvisioningTemplates(ctx, &iot.ListProvisioningTemplatesInput{}))
	if len(list.Templates) != 2 {
		t.Errorf("%d templates, want 2", len(list.Templates))
	}
	cas := must[*iot.ListCACertificatesOutput](t)(ts.client.ListCACertificates(ctx, &iot.ListCACertificatesInput{}))
	if len(cas.Certificates) != 1 {
		t.Errorf("%d CA certificates, want only the first", len(cas.Certificates))
	}
	d := must[*iot.DescribeCACertificateOutput](t)(ts.client.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(caID)}))
	if d.RegistrationConfig != nil {
		t.Errorf("the CA's registrationConfig became %+v", d.RegistrationConfig)
	}
}

// TestJITPWithTemplateName provisions devices through a CA whose
// registrationConfig names a JITP template: the template's default version
// is used, a disabled template provisions nothing, and the template cannot
// be deleted while the CA uses it.
func TestJITPWithTemplateName(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, caID := ts.registerCA(t, "Named Template CA", true, true)
	_, otherID := ts.registerCA(t, "Inline Template CA", true, false)
	ts.ptCreate(t, "jitp", jitpTemplate, types.TemplateTypeJitp, true)
	ts.ptCreate(t, "jitp-unused", jitpTemplate, types.TemplateTypeJitp, true)
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId: aws.String(caID), RegistrationConfig: &types.RegistrationConfig{TemplateName: aws.String("jitp")},
	}))
	d := must[*iot.DescribeCACertificateOutput](t)(ts.client.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(caID)}))
	if d.RegistrationConfig == nil || aws.ToString(d.RegistrationConfig.TemplateName) != "jitp" || d.RegistrationConfig.TemplateBody != nil {
		t.Fatalf("registrationConfig %+v, want the template name", d.RegistrationConfig)
	}

	// ListCACertificates filters by template name.
	for name, want := range map[string][]string{"jitp": {caID}, "jitp-unused": nil} {
		got := must[*iot.ListCACertificatesOutput](t)(ts.client.ListCACertificates(ctx, &iot.ListCACertificatesInput{TemplateName: aws.String(name)}))
		var ids []string
		for _, c := range got.Certificates {
			ids = append(ids, *c.CertificateId)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("ListCACertificates(templateName=%s) = %v, want %v", name, ids, want)
		}
	}
	if all := must[*iot.ListCACertificatesOutput](t)(ts.client.ListCACertificates(ctx, &iot.ListCACertificatesInput{})); len(all.Certificates) != 2 {
		t.Errorf("ListCACertificates without a filter: %d CAs (%s), want 2", len(all.Certificates), otherID)
	}
	_, err := ts.client.DeleteProvisioningTemplate(ctx, &iot.DeleteProvisioningTemplateInput{TemplateName: aws.String("jitp")})
	t.Logf("delete a template in use: %s", wantAPIError(t, err, "DeleteConflictException"))

	connectTwice := func(t *testing.T, cn, clientID string) {
		t.Helper()
		cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: cn})
		if c, err := ts.mqttConnect(t, clientID, key, cert, ca.Certificate); err == nil {
			t.Fatalf("the provisioning connection was not dropped (connected: %v)", c.IsConnected())
		}
		if _, err := ts.mqttConnect(t, clientID, key, cert, ca.Certificate); err != nil {
			t.Fatalf("the provisioned device %s cannot connect: %v", cn, err)
		}
		arn := "arn:aws:iot:us-east-1:123456789012:cert/" + certID(cert)
		things := must[*iot.ListPrincipalThingsOutput](t)(ts.client.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: aws.String(arn)}))
		if !slices.Equal(things.Things, []string{clientID}) {
			t.Fatalf("things of %s: %v, want [%s]", cn, things.Things, clientID)
		}
		pols := must[*iot.ListAttachedPoliciesOutput](t)(ts.client.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(arn)}))
		if len(pols.Policies) != 1 {
			t.Fatalf("policies of %s: %+v, want the template's", cn, pols.Policies)
		}
	}
	connectTwice(t, "device-1", "device-1")

	// A disabled template provisions nothing: the certificate stays
	// PENDING_ACTIVATION and every connection is dropped, until it is enabled.
	must[*iot.UpdateProvisioningTemplateOutput](t)(ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{TemplateName: aws.String("jitp"), Enabled: aws.Bool(false)}))
	cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: "device-2"})
	for i := range 2 {
		if c, err := ts.mqttConnect(t, "device-2", key, cert, ca.Certificate); err == nil {
			t.Fatalf("connection %d with a disabled template was let in (connected: %v)", i+1, c.IsConnected())
		}
	}
	dc := must[*iot.DescribeCertificateOutput](t)(ts.client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(certID(cert))}))
	if dc.CertificateDescription.Status != types.CertificateStatusPendingActivation {
		t.Fatalf("status %s, want PENDING_ACTIVATION", dc.CertificateDescription.Status)
	}
	_, err = ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("device-2")})
	wantAPIError(t, err, "ResourceNotFoundException")
	must[*iot.UpdateProvisioningTemplateOutput](t)(ts.client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{TemplateName: aws.String("jitp"), Enabled: aws.Bool(true)}))
	if _, err := ts.mqttConnect(t, "device-2", key, cert, ca.Certificate); err == nil {
		t.Fatal("the connection that provisioned device-2 was not dropped")
	}
	if _, err := ts.mqttConnect(t, "device-2", key, cert, ca.Certificate); err != nil {
		t.Fatalf("device-2 cannot connect once the template is enabled: %v", err)
	}

	// A new default version applies to the next device.
	v2 := strings.Replace(jitpTemplate, `"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}`,
		`"ThingName":{"Fn::Join":["",["v2-",{"Ref":"AWS::IoT::Certificate::CommonName"}]]}`, 1)
	if v2 == jitpTemplate {
		t.Fatal("jitpTemplate changed: update this test")
	}
	must[*iot.CreateProvisioningTemplateVersionOutput](t)(ts.client.CreateProvisioningTemplateVersion(ctx, &iot.CreateProvisioningTemplateVersionInput{
		TemplateName: aws.String("jitp"), TemplateBody: aws.String(v2), SetAsDefault: true,
	}))
	connectTwice(t, "device-3", "v2-device-3")

	// Once no CA uses it, the template can be deleted.
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{CertificateId: aws.String(caID), RemoveAutoRegistration: true}))
	must[*iot.DeleteProvisioningTemplateOutput](t)(ts.client.DeleteProvisioningTemplate(ctx, &iot.DeleteProvisioningTemplateInput{TemplateName: aws.String("jitp")}))
}

// registerThingTemplate provisions a thing named by a parameter, in the
// group "fleet", with an existing certificate and an inline policy.
const registerThingTemplate = `{"Parameters":{"ThingName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{` +
	`"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"ThingName"},"AttributePayload":{"model":"m1"},"ThingGroups":["fleet"]}},` +
	`"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},` +
	`"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":` + registerThingPolicyJSON + `}}}}`

const registerThingPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`

// registerThingPolicyJSON is registerThingPolicy as a JSON string.
const registerThingPolicyJSON = `"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}"`

func TestRegisterThing(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, _ := ts.registerCA(t, "RegisterThing CA", true, false)
	must[*iot.CreateThingGroupOutput](t)(ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("fleet")}))
	dev := deviceCert(t, ca, "rt-1")
	reg := must[*iot.RegisterCertificateOutput](t)(ts.client.RegisterCertificate(ctx, &iot.RegisterCertificateInput{
		CertificatePem: aws.String(pemOf(dev)), Status: types.CertificateStatusInactive,
	}))
	certARN := *reg.CertificateArn
	policyName := template.GeneratedPolicyName(registerThingPolicy)

	out := must[*iot.RegisterThingOutput](t)(ts.client.RegisterThing(ctx, &iot.RegisterThingInput{
		TemplateBody: aws.String(registerThingTemplate),
		Parameters:   map[string]string{"ThingName": "rt-1", "AWS::IoT::Certificate::Id": *reg.CertificateId},
	}))
	want := map[string]string{
		"thing":       "arn:aws:iot:us-east-1:123456789012:thing/rt-1",
		"certificate": certARN,
		"policy":      "arn:aws:iot:us-east-1:123456789012:policy/" + policyName,
	}
	if fmt.Sprint(out.ResourceArns) != fmt.Sprint(want) || aws.ToString(out.CertificatePem) != pemOf(dev) {
		t.Fatalf("RegisterThing = %v, %q; want %v and the certificate", out.ResourceArns, aws.ToString(out.CertificatePem), want)
	}
	th := must[*iot.DescribeThingOutput](t)(ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("rt-1")}))
	if th.Attributes["model"] != "m1" {
		t.Errorf("attributes %v", th.Attributes)
	}
	groups := must[*iot.ListThingGroupsForThingOutput](t)(ts.client.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("rt-1")}))
	if len(groups.ThingGroups) != 1 || *groups.ThingGroups[0].GroupName != "fleet" {
		t.Errorf("groups %+v", groups.ThingGroups)
	}
	things := must[*iot.ListPrincipalThingsOutput](t)(ts.client.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: aws.String(certARN)}))
	pols := must[*iot.ListAttachedPoliciesOutput](t)(ts.client.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(certARN)}))
	if !slices.Equal(things.Things, []string{"rt-1"}) || len(pols.Policies) != 1 || *pols.Policies[0].PolicyName != policyName {
		t.Fatalf("attachments: things %v, policies %+v", things.Things, pols.Policies)
	}
	dc := must[*iot.DescribeCertificateOutput](t)(ts.client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: reg.CertificateId}))
	if dc.CertificateDescription.Status != types.CertificateStatusActive {
		t.Errorf("certificate status %s, want the template's ACTIVE", dc.CertificateDescription.Status)
	}
	// Again: everything is reused.
	must[*iot.RegisterThingOutput](t)(ts.client.RegisterThing(ctx, &iot.RegisterThingInput{
		TemplateBody: aws.String(registerThingTemplate),
		Parameters:   map[string]string{"ThingName": "rt-1", "AWS::IoT::Certificate::Id": *reg.CertificateId},
	}))

	// A failure at the last resource creates nothing at all: not the thing,
	// the new policy nor any attachment made before it.
	otherPolicy := strings.Replace(registerThingPolicy, "iot:Connect", "iot:Publish", 1)
	failing := strings.TrimSuffix(registerThingTemplate, "}}") +
		`,"other":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":` + strings.Replace(registerThingPolicyJSON, "iot:Connect", "iot:Publish", 1) + `}}` +
		`,"missing":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"no-such-policy"}}}}`
	_, err := ts.client.RegisterThing(ctx, &iot.RegisterThingInput{
		TemplateBody: aws.String(failing),
		Parameters:   map[string]string{"ThingName": "rt-2", "AWS::IoT::Certificate::Id": *reg.CertificateId},
	})
	msg := wantAPIError(t, err, "ResourceRegistrationFailureException")
	if !strings.HasPrefix(msg, "Resources.missing: ") {
		t.Errorf("message %q, want it to name the resource", msg)
	}
	_, err = ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("rt-2")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = ts.client.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: aws.String(template.GeneratedPolicyName(otherPolicy))})
	wantAPIError(t, err, "ResourceNotFoundException")
	things = must[*iot.ListPrincipalThingsOutput](t)(ts.client.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: aws.String(certARN)}))
	pols = must[*iot.ListAttachedPoliciesOutput](t)(ts.client.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(certARN)}))
	if !slices.Equal(things.Things, []string{"rt-1"}) || len(pols.Policies) != 1 {
		t.Fatalf("the failed RegisterThing changed the attachments: things %v, policies %+v", things.Things, pols.Policies)
	}

	for _, tc := range []struct {
		name, body string
		params     map[string]string
		code, msg  string
	}{
		{"broken template", brokenTemplate, nil, "InvalidRequestException", "Resources.thing.Properties.ThingName: "},
		{"parameter without a value", registerThingTemplate, map[string]string{"AWS::IoT::Certificate::Id": *reg.CertificateId}, "InvalidRequestException", "Resources.thing.Properties.ThingName: "},
		{"parameter value breaking a name rule", registerThingTemplate, map[string]string{"ThingName": "a b", "AWS::IoT::Certificate::Id": *reg.CertificateId}, "InvalidRequestException", "Resources.thing.Properties.ThingName: "},
		{"unknown certificate", registerThingTemplate, map[string]string{"ThingName": "rt-3", "AWS::IoT::Certificate::Id": strings.Repeat("ab", 32)}, "ResourceRegistrationFailureException", "Resources.certificate: "},
		{"unknown thing group", strings.Replace(registerThingTemplate, `["fleet"]`, `["nope"]`, 1), map[string]string{"ThingName": "rt-3", "AWS::IoT::Certificate::Id": *reg.CertificateId}, "ResourceRegistrationFailureException", "Resources.thing: "},
		{"unknown thing type", strings.Replace(registerThingTemplate, `"ThingGroups"`, `"ThingTypeName":"nope","ThingGroups"`, 1), map[string]string{"ThingName": "rt-3", "AWS::IoT::Certificate::Id": *reg.CertificateId}, "ResourceRegistrationFailureException", "Resources.thing: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ts.client.RegisterThing(ctx, &iot.RegisterThingInput{TemplateBody: aws.String(tc.body), Parameters: tc.params})
			msg := wantAPIError(t, err, tc.code)
			if !strings.HasPrefix(msg, tc.msg) {
				t.Errorf("message %q, want it to start with %q", msg, tc.msg)
			}
			t.Logf("message: %s", msg)
		})
	}
	if _, err := ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("rt-3")}); err == nil {
		t.Error("a failed RegisterThing created rt-3")
	}

	t.Run("CertificatePem", func(t *testing.T) {
		byPEM := strings.Replace(registerThingTemplate, `"AWS::IoT::Certificate::Id":{"Type":"String"}`, `"Pem":{"Type":"String"}`, 1)
		byPEM = strings.Replace(byPEM, `"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"`, `"CertificatePem":{"Ref":"Pem"},"Status":"INACTIVE"`, 1)
		dev := deviceCert(t, ca, "rt-pem")
		out := must[*iot.RegisterThingOutput](t)(ts.client.RegisterThing(ctx, &iot.RegisterThingInput{
			TemplateBody: aws.String(byPEM), Parameters: map[string]string{"ThingName": "rt-pem", "Pem": pemOf(dev)},
		}))
		if out.ResourceArns["certificate"] != "arn:aws:iot:us-east-1:123456789012:cert/"+certID(dev) || aws.ToString(out.CertificatePem) != pemOf(dev) {
			t.Fatalf("RegisterThing = %v", out.ResourceArns)
		}
		dc := must[*iot.DescribeCertificateOutput](t)(ts.client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(certID(dev))}))
		if dc.CertificateDescription.Status != types.CertificateStatusInactive || aws.ToString(dc.CertificateDescription.CaCertificateId) != certID(ca.Certificate) {
			t.Fatalf("registered certificate %+v, want INACTIVE under the CA", dc.CertificateDescription)
		}
		// A certificate from an unregistered CA is not registered.
		stranger := deviceCert(t, pkitest.NewRoot(t, "Stranger"), "rt-stranger")
		_, err := ts.client.RegisterThing(ctx, &iot.RegisterThingInput{
			TemplateBody: aws.String(byPEM), Parameters: map[string]string{"ThingName": "rt-stranger", "Pem": pemOf(stranger)},
		})
		wantAPIError(t, err, "ResourceRegistrationFailureException")
	})

	t.Run("CertificateSigningRequest", func(t *testing.T) {
		byCSR := strings.Replace(registerThingTemplate, `"AWS::IoT::Certificate::Id":{"Type":"String"}`, `"CSR":{"Type":"String"}`, 1)
		byCSR = strings.Replace(byCSR, `"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"}`, `"CertificateSigningRequest":{"Ref":"CSR"}`, 1)
		key := pkitest.NewKey(t, pki.KeyECP256)
		csr, err := pki.CreateCSR(key, pkixName("rt-csr"))
		if err != nil {
			t.Fatal(err)
		}
		out := must[*iot.RegisterThingOutput](t)(ts.client.RegisterThing(ctx, &iot.RegisterThingInput{
			TemplateBody: aws.String(byCSR), Parameters: map[string]string{"ThingName": "rt-csr", "CSR": pki.EncodeCSRPEM(csr)},
		}))
		issued, err := pki.ParseCertificatePEM(aws.ToString(out.CertificatePem))
		if err != nil {
			t.Fatalf("certificatePem: %v", err)
		}
		if err := pki.CheckKeyMatch(issued, key); err != nil {
			t.Fatalf("the issued certificate is not for the CSR's key: %v", err)
		}
		if out.ResourceArns["certificate"] != "arn:aws:iot:us-east-1:123456789012:cert/"+certID(issued) {
			t.Fatalf("RegisterThing = %v", out.ResourceArns)
		}
		things := must[*iot.ListPrincipalThingsOutput](t)(ts.client.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: aws.String(out.ResourceArns["certificate"])}))
		if !slices.Equal(things.Things, []string{"rt-csr"}) {
			t.Fatalf("things of the issued certificate: %v", things.Things)
		}
	})
}
