package servertest

import (
	"context"
	"crypto/tls"
	"errors"
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

// AllowAllPolicy allows every action on every resource.
const AllowAllPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`

// AllowedEverything makes a certificate through the API
// (CreateKeysAndCertificate, active) with the policy "all"
// (AllowAllPolicy, created if need be) attached, and returns it with its
// key and its id.
func (g *Gateway) AllowedEverything(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	ctx := context.Background()
	kc, err := g.Client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatalf("create-keys-and-certificate: %v", err)
	}
	_, err = g.Client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("all"), PolicyDocument: aws.String(AllowAllPolicy)})
	var exists *types.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("create-policy: %v", err)
	}
	if _, err := g.Client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("all"), Target: kc.CertificateArn}); err != nil {
		t.Fatalf("attach-policy: %v", err)
	}
	cert, err := tls.X509KeyPair([]byte(*kc.CertificatePem), []byte(*kc.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return cert, *kc.CertificateId
}
