// Package servertest runs a real iotcore gateway for tests: a temporary data
// directory, the API and MQTT on loopback ports of their own, its logs
// discarded unless IOTCORE_TEST_LOG is set, and an AWS SDK client for its
// API. The gateway stops, and its Run and Close must succeed, when the test
// ends.
package servertest

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/iotcore/iotcore/internal/server"
)

// SigningRegion is the region the Client signs for: another than the
// server's, as the seeds' commands do (--region us-east-2).
const SigningRegion = "us-east-2"

// Gateway is a running server.
type Gateway struct {
	*server.Server
	// Client is the AWS SDK's IoT client with the admin credentials.
	Client *iot.Client
	// RootCAs holds the CA devices trust for the server's certificate.
	RootCAs *x509.CertPool
}

// Start runs a gateway until the test ends. configure, if any, changes its
// configuration first (DataDir, APIAddr, MQTTAddr and Logger are set).
func Start(t testing.TB, configure ...func(*server.Config)) *Gateway {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), APIAddr: "127.0.0.1:0", MQTTAddr: "127.0.0.1:0", Logger: Logger(),
		MQTTEngine: os.Getenv("IOTCORE_MQTT_ENGINE")} // scripts/test runs the tests on each engine
	for _, c := range configure {
		c(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("open the server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("the server did not stop within a minute")
		}
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	roots := x509.NewCertPool()
	roots.AddCert(srv.RootCA.Certificate)
	return &Gateway{
		Server:  srv,
		Client:  NewClient(srv.APIURL(), srv.Credentials.AccessKeyID, srv.Credentials.SecretAccessKey),
		RootCAs: roots,
	}
}

// NewClient is the AWS SDK for Go v2 IoT client for the API at url, signing
// for SigningRegion, without retries (a test sees every error).
func NewClient(url, keyID, secret string) *iot.Client {
	return iot.New(iot.Options{
		Region:       SigningRegion,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// Logger discards logs unless IOTCORE_TEST_LOG is set, when it writes them
// all, debug included, to standard error.
func Logger() *slog.Logger {
	if os.Getenv("IOTCORE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
