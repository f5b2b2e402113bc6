package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// RegisterJITPCA makes a CA named cn and registers it through the API as
// the seeds do (registration code, verification certificate, active,
// auto-registration on, templateBody as its registration config), and
// returns it with its certificate id.
func (g *Gateway) RegisterJITPCA(t testing.TB, cn, templateBody string) (*pki.Authority, string) {
	t.Helper()
	ctx := context.Background()
	ca := pkitest.NewRoot(t, cn)
	code, err := g.Client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		t.Fatalf("get-registration-code: %v", err)
	}
	key := pkitest.NewKey(t, pki.KeyECP256)
	ver, err := ca.IssueVerification(key.Public(), *code.RegistrationCode, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.Client.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{
		CaCertificate: aws.String(pki.EncodeCertificatePEM(ca.Certificate)), VerificationCertificate: aws.String(pki.EncodeCertificatePEM(ver)),
		SetAsActive: true, AllowAutoRegistration: true,
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(templateBody), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
	})
	if err != nil {
		t.Fatalf("register-ca-certificate: %v", err)
	}
	return ca, *out.CertificateId
}
