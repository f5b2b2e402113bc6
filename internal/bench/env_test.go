package bench

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

// testTimeout bounds each wait on the server: generous, for -race on a
// loaded two-core machine.
const testTimeout = 30 * time.Second

// env is an iotcore gateway on loopback, an SDK client for its API, and a
// Fixture: a CA registered on it for JITP.
type env struct {
	srv     *server.Server
	api     *iot.Client
	ep      Endpoint
	fixture *Fixture
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with a server configuration changed by configure
// (nil: none).
func newEnvWith(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), APIAddr: "127.0.0.1:0", MQTTAddr: "127.0.0.1:0", Logger: testLogger()}
	if configure != nil {
		configure(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	roots := x509.NewCertPool()
	roots.AddCert(srv.RootCA.Certificate)
	e := &env{
		srv: srv,
		api: iot.New(iot.Options{
			Region:       "us-east-2", // signed for another region than the server's, as the seeds do
			BaseEndpoint: aws.String(srv.APIURL()),
			Credentials:  credentials.NewStaticCredentialsProvider(srv.Credentials.AccessKeyID, srv.Credentials.SecretAccessKey, ""),
			Retryer:      aws.NopRetryer{},
		}),
		ep: Endpoint{Addr: srv.MQTTAddr().String(), RootCAs: roots, Timeout: testTimeout},
	}
	e.fixture, err = Setup(context.Background(), e.api, NewPrefix())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// countThings counts the things whose names start with prefix.
func (e *env) countThings(t *testing.T, prefix string) int {
	t.Helper()
	n := 0
	p := iot.NewListThingsPaginator(e.api, &iot.ListThingsInput{MaxResults: aws.Int32(250)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range out.Things {
			if len(aws.ToString(th.ThingName)) > len(prefix) && aws.ToString(th.ThingName)[:len(prefix)] == prefix {
				n++
			}
		}
	}
	return n
}

// checkLatency checks that a distribution has count samples, in order.
func checkLatency(t *testing.T, name string, l Latency, count int64) {
	t.Helper()
	if l.Count != count {
		t.Errorf("%s: %d samples, want %d", name, l.Count, count)
	}
	if count > 0 && !(0 <= l.Min && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Min <= l.Mean && l.Mean <= l.Max) {
		t.Errorf("%s: %+v is out of order", name, l)
	}
}

// testLogger discards the server's logs unless IOTCORE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("IOTCORE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
