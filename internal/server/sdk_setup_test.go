package server_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/smithy-go"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// testServer is a real gateway on loopback with a temporary data directory.
type testServer struct {
	*server.Server
	client *iot.Client
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerLogging(t, servertest.Logger())
}

// startServerLogging starts a server that logs to logger.
func startServerLogging(t *testing.T, logger *slog.Logger) *testServer {
	t.Helper()
	gw := servertest.Start(t, func(c *server.Config) {
		c.AccountID, c.Region, c.Logger = "123456789012", "us-east-1", logger
	})
	return &testServer{Server: gw.Server, client: gw.Client}
}

// newClient is the AWS SDK for Go v2 IoT client pointed at url, signing for
// us-east-2 as the seeds do (the server's own region is us-east-1).
func newClient(url, keyID, secret string) *iot.Client {
	return servertest.NewClient(url, keyID, secret)
}

// wantAPIError checks that err is the AWS error code, and returns its message.
func wantAPIError(t *testing.T, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if ae.ErrorMessage() == "" {
		t.Errorf("%s has an empty message", code)
	}
	return ae.ErrorMessage()
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// registerCA registers a new CA (DEFAULT mode, proof of possession) and returns it.
func (ts *testServer) registerCA(t *testing.T, cn string, active, auto bool) (*pki.Authority, string) {
	t.Helper()
	ctx := context.Background()
	ca := pkitest.NewRoot(t, cn)
	code := must[*iot.GetRegistrationCodeOutput](t)(ts.client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{}))
	ver := verificationCert(t, ca, *code.RegistrationCode)
	out := must[*iot.RegisterCACertificateOutput](t)(ts.client.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{
		CaCertificate:           aws.String(pki.EncodeCertificatePEM(ca.Certificate)),
		VerificationCertificate: aws.String(pki.EncodeCertificatePEM(ver)),
		SetAsActive:             active,
		AllowAutoRegistration:   auto,
	}))
	return ca, *out.CertificateId
}

func verificationCert(t *testing.T, ca *pki.Authority, code string) *x509.Certificate {
	t.Helper()
	key := pkitest.NewKey(t, pki.KeyECP256)
	c, err := ca.IssueVerification(key.Public(), code, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deviceCert(t *testing.T, ca *pki.Authority, cn string) *x509.Certificate {
	t.Helper()
	c, _ := pkitest.NewClient(t, ca, pkix.Name{CommonName: cn, Country: []string{"IN"}})
	return c
}

// testLogger discards logs unless IOTCORE_TEST_LOG is set.
func testLogger() *slog.Logger { return servertest.Logger() }
