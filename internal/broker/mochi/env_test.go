package mochi

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// waitTimeout bounds every wait in these tests; they poll for conditions,
// and only a failure waits this long.
const waitTimeout = 15 * time.Second

// env is one test's broker on loopback, with its PKI and fake gate.
type env struct {
	t      *testing.T
	root   *pki.Authority // signs the server and the devices
	pool   *x509.CertPool
	gate   *fakeGate
	b      *Broker
	cancel context.CancelFunc
	served chan error

	mu      sync.Mutex
	devices map[string]tls.Certificate // by CN
}

// newEnv starts a broker (both listeners) on loopback ports, stopped when
// the test ends; opts adjust its Config.
func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	root := pkitest.NewRoot(t, "iotcore test root")
	key := pkitest.NewKey(t, pki.DefaultKeyType)
	now := time.Now()
	cert, err := root.IssueServer(key.Public(), []string{"localhost", "127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root.Certificate)
	e := &env{t: t, root: root, pool: pool, gate: newFakeGate(t), devices: map[string]tls.Certificate{}}

	cfg := Config{
		Addr:          "127.0.0.1:0",
		WebSocketAddr: "127.0.0.1:0",
		Certificate:   tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
		Gate:          e.gate,
		Logger:        testLogger(),
		Engine:        testEngine(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.b, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.served = cancel, make(chan error, 1)
	go func() { e.served <- e.b.Serve(ctx) }()
	t.Cleanup(e.stop)
	return e
}

// stop ends Serve and checks that it returns, promptly.
func (e *env) stop() {
	e.t.Helper()
	e.cancel()
	select {
	case err := <-e.served:
		if err != nil {
			e.t.Errorf("Serve: %v", err)
		}
		e.served <- nil // for a second stop
	case <-time.After(waitTimeout):
		e.t.Fatalf("Serve did not return %v after its context ended", waitTimeout)
	}
}

// testEngine is the engine the tests run: IOTCORE_MQTT_ENGINE, or the
// default. scripts/test runs them with each engine.
func testEngine() string {
	if e := os.Getenv("IOTCORE_MQTT_ENGINE"); e != "" {
		return e
	}
	return DefaultEngine
}

// mochiOnly skips a test of a workaround for one of mochi's defects when
// the engine under test is not mochi, which has no such defect to work
// around.
func mochiOnly(t *testing.T, what string) {
	t.Helper()
	if e := testEngine(); e != EngineMochi {
		t.Skipf("a test of mochi's %s; engine %s", what, e)
	}
}

// testLogger logs to standard error with -v (and at Debug, mochi's lines
// included, with IOTCORE_TEST_DEBUG=1), otherwise nowhere.
func testLogger() *slog.Logger {
	switch {
	case os.Getenv("IOTCORE_TEST_DEBUG") == "1":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	case testing.Verbose():
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// device returns the certificate of the device whose CN is cn, made on
// first use.
func (e *env) device(cn string) tls.Certificate {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.devices[cn]; ok {
		return c
	}
	cert, key := pkitest.NewClient(e.t, e.root, pkix.Name{CommonName: cn})
	c := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	e.devices[cn] = c
	return c
}

// clientTLS is a device's TLS configuration, offering alpn.
func (e *env) clientTLS(cn string, alpn ...string) *tls.Config {
	cfg := &tls.Config{RootCAs: e.pool, ServerName: "localhost", NextProtos: alpn}
	if cn != "" {
		cfg.Certificates = []tls.Certificate{e.device(cn)}
	}
	return cfg
}

// files writes the CA and cn's certificate and key for programs such as
// mosquitto_pub.
func (e *env) files(cn string) (ca, cert, key string) {
	dir := e.t.TempDir()
	ca, _ = pkitest.WriteFiles(e.t, dir, "ca", nil, e.root.Certificate)
	d := e.device(cn)
	cert, key = pkitest.WriteFiles(e.t, dir, "device", d.PrivateKey.(crypto.Signer), d.Leaf)
	return ca, cert, key
}

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
