package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

func TestRegistrationCodeIsStable(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	a := must[*iot.GetRegistrationCodeOutput](t)(ts.client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{}))
	b := must[*iot.GetRegistrationCodeOutput](t)(ts.client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{}))
	if len(*a.RegistrationCode) != 64 || *a.RegistrationCode != *b.RegistrationCode {
		t.Fatalf("codes %q and %q: want one stable 64-hex code", *a.RegistrationCode, *b.RegistrationCode)
	}
	must[*iot.DeleteRegistrationCodeOutput](t)(ts.client.DeleteRegistrationCode(ctx, &iot.DeleteRegistrationCodeInput{}))
	c := must[*iot.GetRegistrationCodeOutput](t)(ts.client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{}))
	if *c.RegistrationCode == *a.RegistrationCode {
		t.Fatal("DeleteRegistrationCode did not replace the code")
	}
}

func TestCACertificateLifecycle(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, caID := ts.registerCA(t, "Device Root CA", true, true)
	if caID != pki.CertificateID(ca.Certificate.Raw) {
		t.Fatalf("caCertificateId %s, want the SHA-256 of the DER", caID)
	}

	template := `{"Resources":{}}`
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId:      aws.String(caID),
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(template), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
	}))
	d := must[*iot.DescribeCACertificateOutput](t)(ts.client.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(caID)}))
	desc := d.CertificateDescription
	if desc.Status != types.CACertificateStatusActive || desc.AutoRegistrationStatus != types.AutoRegistrationStatusEnable ||
		desc.CertificateMode != types.CertificateModeDefault || *desc.OwnedBy != "123456789012" ||
		*desc.CertificateArn != "arn:aws:iot:us-east-1:123456789012:cacert/"+caID || desc.CreationDate == nil ||
		desc.Validity == nil || !desc.Validity.NotAfter.Equal(ca.Certificate.NotAfter.Truncate(1e9)) {
		t.Fatalf("unexpected description: %+v", desc)
	}
	if d.RegistrationConfig == nil || *d.RegistrationConfig.TemplateBody != template {
		t.Fatalf("registrationConfig %+v, want the template", d.RegistrationConfig)
	}

	// Registering the same CA again is a conflict carrying its id and ARN.
	code := must[*iot.GetRegistrationCodeOutput](t)(ts.client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{}))
	_, err := ts.client.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{
		CaCertificate:           aws.String(pki.EncodeCertificatePEM(ca.Certificate)),
		VerificationCertificate: aws.String(pki.EncodeCertificatePEM(verificationCert(t, ca, *code.RegistrationCode))),
	})
	var exists *types.ResourceAlreadyExistsException
	if wantAPIError(t, err, "ResourceAlreadyExistsException"); !asErr(err, &exists) || *exists.ResourceId != caID {
		t.Fatalf("ResourceAlreadyExistsException without the resource id: %v", err)
	}

	list := must[*iot.ListCACertificatesOutput](t)(ts.client.ListCACertificates(ctx, &iot.ListCACertificatesInput{}))
	if len(list.Certificates) != 1 || *list.Certificates[0].CertificateId != caID {
		t.Fatalf("ListCACertificates = %+v", list.Certificates)
	}

	// An ACTIVE CA cannot be deleted; an INACTIVE one can.
	_, err = ts.client.DeleteCACertificate(ctx, &iot.DeleteCACertificateInput{CertificateId: aws.String(caID)})
	wantAPIError(t, err, "CertificateStateException")
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId: aws.String(caID), NewStatus: types.CACertificateStatusInactive,
		NewAutoRegistrationStatus: types.AutoRegistrationStatusDisable, RemoveAutoRegistration: true,
	}))
	d = must[*iot.DescribeCACertificateOutput](t)(ts.client.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(caID)}))
	if d.RegistrationConfig != nil || d.CertificateDescription.AutoRegistrationStatus != types.AutoRegistrationStatusDisable {
		t.Fatalf("removeAutoRegistration left %+v", d.RegistrationConfig)
	}
	must[*iot.DeleteCACertificateOutput](t)(ts.client.DeleteCACertificate(ctx, &iot.DeleteCACertificateInput{CertificateId: aws.String(caID)}))
	_, err = ts.client.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(caID)})
	wantAPIError(t, err, "ResourceNotFoundException")
}

func TestRegisterCACertificateRejects(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca := pkitest.NewRoot(t, "Root")
	other := pkitest.NewRoot(t, "Root") // same name, different key
	code := *must[*iot.GetRegistrationCodeOutput](t)(ts.client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})).RegistrationCode
	caPEM := pki.EncodeCertificatePEM(ca.Certificate)
	leaf := deviceCert(t, ca, "not-a-ca")
	for _, tc := range []struct {
		name, ca, verification, mode, code string
	}{
		{name: "malformed PEM", ca: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----", verification: caPEM, code: "CertificateValidationException"},
		{name: "not a CA", ca: pki.EncodeCertificatePEM(leaf), verification: caPEM, code: "CertificateValidationException"},
		{name: "wrong registration code", ca: caPEM, verification: pki.EncodeCertificatePEM(verificationCert(t, ca, strings.Repeat("0", 64))), code: "RegistrationCodeValidationException"},
		{name: "verification signed by another CA with the same name", ca: caPEM, verification: pki.EncodeCertificatePEM(verificationCert(t, other, code)), code: "CertificateValidationException"},
		{name: "DEFAULT mode without verification", ca: caPEM, code: "InvalidRequestException"},
		{name: "SNI_ONLY with verification", ca: caPEM, verification: pki.EncodeCertificatePEM(verificationCert(t, ca, code)), mode: "SNI_ONLY", code: "InvalidRequestException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &iot.RegisterCACertificateInput{CaCertificate: aws.String(tc.ca), CertificateMode: types.CertificateMode(tc.mode)}
			if tc.verification != "" {
				in.VerificationCertificate = aws.String(tc.verification)
			}
			_, err := ts.client.RegisterCACertificate(ctx, in)
			t.Logf("message: %s", wantAPIError(t, err, tc.code))
		})
	}
	// Nothing was written.
	list := must[*iot.ListCACertificatesOutput](t)(ts.client.ListCACertificates(ctx, &iot.ListCACertificatesInput{}))
	if len(list.Certificates) != 0 {
		t.Fatalf("rejected registrations left %d CAs", len(list.Certificates))
	}
	// SNI_ONLY needs no proof of possession.
	out := must[*iot.RegisterCACertificateOutput](t)(ts.client.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{
		CaCertificate: aws.String(caPEM), CertificateMode: types.CertificateModeSniOnly,
	}))
	d := must[*iot.DescribeCACertificateOutput](t)(ts.client.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: out.CertificateId}))
	if d.CertificateDescription.CertificateMode != types.CertificateModeSniOnly || d.CertificateDescription.Status != types.CACertificateStatusInactive {
		t.Fatalf("SNI_ONLY CA: %+v", d.CertificateDescription)
	}
}

func TestDeviceCertificateLifecycle(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, caID := ts.registerCA(t, "Root", true, false)
	dev := deviceCert(t, ca, "DemoThing")
	devPEM := pki.EncodeCertificatePEM(dev)

	reg := must[*iot.RegisterCertificateOutput](t)(ts.client.RegisterCertificate(ctx, &iot.RegisterCertificateInput{
		CertificatePem: aws.String(devPEM), Status: types.CertificateStatusActive,
	}))
	id := *reg.CertificateId
	if id != pki.CertificateID(dev.Raw) || *reg.CertificateArn != "arn:aws:iot:us-east-1:123456789012:cert/"+id {
		t.Fatalf("RegisterCertificate = %s %s", id, *reg.CertificateArn)
	}
	_, err := ts.client.RegisterCertificate(ctx, &iot.RegisterCertificateInput{CertificatePem: aws.String(devPEM)})
	wantAPIError(t, err, "ResourceAlreadyExistsException")

	d := must[*iot.DescribeCertificateOutput](t)(ts.client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(id)}))
	if *d.CertificateDescription.CaCertificateId != caID || d.CertificateDescription.Status != types.CertificateStatusActive ||
		*d.CertificateDescription.CertificatePem != devPEM {
		t.Fatalf("DescribeCertificate = %+v", d.CertificateDescription)
	}

	// A certificate from an unregistered CA is refused.
	stranger := deviceCert(t, pkitest.NewRoot(t, "Stranger"), "x")
	_, err = ts.client.RegisterCertificate(ctx, &iot.RegisterCertificateInput{CertificatePem: aws.String(pki.EncodeCertificatePEM(stranger))})
	wantAPIError(t, err, "CertificateValidationException")
	// ... but can be registered without a CA, in SNI_ONLY mode.
	noCA := must[*iot.RegisterCertificateWithoutCAOutput](t)(ts.client.RegisterCertificateWithoutCA(ctx, &iot.RegisterCertificateWithoutCAInput{
		CertificatePem: aws.String(pki.EncodeCertificatePEM(stranger)), Status: types.CertificateStatusInactive,
	}))

	// Listing: by CA, and paginated.
	byCA := must[*iot.ListCertificatesByCAOutput](t)(ts.client.ListCertificatesByCA(ctx, &iot.ListCertificatesByCAInput{CaCertificateId: aws.String(caID)}))
	if len(byCA.Certificates) != 1 || *byCA.Certificates[0].CertificateId != id {
		t.Fatalf("ListCertificatesByCA = %+v", byCA.Certificates)
	}
	var all []string
	p := iot.NewListCertificatesPaginator(ts.client, &iot.ListCertificatesInput{PageSize: aws.Int32(1)})
	for p.HasMorePages() {
		page := must[*iot.ListCertificatesOutput](t)(p.NextPage(ctx))
		for _, c := range page.Certificates {
			all = append(all, *c.CertificateId)
		}
	}
	if len(all) != 2 {
		t.Fatalf("paginated ListCertificates = %v, want 2 certificates", all)
	}

	// State rules: ACTIVE cannot be deleted; REVOKED cannot be reactivated;
	// internal states cannot be set.
	_, err = ts.client.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: aws.String(id)})
	wantAPIError(t, err, "CertificateStateException")
	_, err = ts.client.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: types.CertificateStatusPendingActivation})
	wantAPIError(t, err, "InvalidRequestException")
	must[*iot.UpdateCertificateOutput](t)(ts.client.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: types.CertificateStatusRevoked}))
	_, err = ts.client.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: types.CertificateStatusActive})
	wantAPIError(t, err, "CertificateStateException")

	// Attachments block deletion; forceDelete overrides policies but not things.
	arn := *reg.CertificateArn
	must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(arn)}))
	must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("DemoThing")}))
	must[*iot.AttachThingPrincipalOutput](t)(ts.client.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("DemoThing"), Principal: aws.String(arn)}))
	_, err = ts.client.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: aws.String(id), ForceDelete: true})
	wantAPIError(t, err, "DeleteConflictException")
	must[*iot.DetachThingPrincipalOutput](t)(ts.client.DetachThingPrincipal(ctx, &iot.DetachThingPrincipalInput{ThingName: aws.String("DemoThing"), Principal: aws.String(arn)}))
	_, err = ts.client.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: aws.String(id)})
	wantAPIError(t, err, "DeleteConflictException")
	must[*iot.DeleteCertificateOutput](t)(ts.client.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: aws.String(id), ForceDelete: true}))
	targets := must[*iot.ListTargetsForPolicyOutput](t)(ts.client.ListTargetsForPolicy(ctx, &iot.ListTargetsForPolicyInput{PolicyName: aws.String("p")}))
	if len(targets.Targets) != 0 {
		t.Fatalf("forceDelete left the policy attached to %v", targets.Targets)
	}
	must[*iot.DeleteCertificateOutput](t)(ts.client.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: noCA.CertificateId}))
}

func TestServerIssuedCertificates(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	kc := must[*iot.CreateKeysAndCertificateOutput](t)(ts.client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true}))
	cert, err := pki.ParseCertificatePEM(*kc.CertificatePem)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ParsePrivateKeyPEM(*kc.KeyPair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.CheckKeyMatch(cert, key); err != nil {
		t.Fatalf("returned key does not match the certificate: %v", err)
	}
	if *kc.CertificateId != pki.CertificateID(cert.Raw) || cert.Subject.CommonName != "AWS IoT Certificate" ||
		cert.NotAfter.Year() != 2049 || !strings.HasPrefix(*kc.KeyPair.PrivateKey, "-----BEGIN RSA PRIVATE KEY") {
		t.Fatalf("certificate %s with subject %s", *kc.CertificateId, cert.Subject)
	}
	d := must[*iot.DescribeCertificateOutput](t)(ts.client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: kc.CertificateId}))
	if d.CertificateDescription.Status != types.CertificateStatusActive {
		t.Fatalf("status %s, want ACTIVE", d.CertificateDescription.Status)
	}

	devKey := pkitest.NewKey(t, pki.KeyECP256)
	csr, err := pki.CreateCSR(devKey, pkixName("sensor-1"))
	if err != nil {
		t.Fatal(err)
	}
	fc := must[*iot.CreateCertificateFromCsrOutput](t)(ts.client.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{
		CertificateSigningRequest: aws.String(pki.EncodeCSRPEM(csr)),
	}))
	issued, err := pki.ParseCertificatePEM(*fc.CertificatePem)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.CheckKeyMatch(issued, devKey); err != nil {
		t.Fatalf("certificate is not for the CSR's key: %v", err)
	}
	_, err = ts.client.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String("garbage")})
	wantAPIError(t, err, "InvalidRequestException")
}
