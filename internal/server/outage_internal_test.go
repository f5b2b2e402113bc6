package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/iotcore/iotcore/internal/devicesim"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A database that fails while devices connect must not look like an
// ordinary refusal: devices get CONNACK "server unavailable" (so they retry
// later), the operator an ERROR line and mqtt_gate_errors_total, and
// /readyz fails.
func TestDatabaseOutageIsVisible(t *testing.T) {
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Open(ctx, Config{
		DataDir:  t.TempDir(),
		APIAddr:  "127.0.0.1:0",
		MQTTAddr: "127.0.0.1:0",
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
		_ = srv.Close() // the database is closed already
	})

	readyz := func() int {
		t.Helper()
		resp, err := http.Get(srv.APIURL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := readyz(); code != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d", code)
	}

	// The outage: the database goes away under the running server.
	if err := srv.db.Close(); err != nil {
		t.Fatal(err)
	}

	ca := pkitest.NewRoot(t, "device CA")
	cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: "sensor"})
	pool := x509.NewCertPool()
	pool.AddCert(srv.RootCA.Certificate)
	opts := paho.NewClientOptions().
		AddBroker("tls://" + srv.MQTTAddr().String()).
		SetClientID("sensor").
		SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "localhost",
			Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}}).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(10 * time.Second)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(30 * time.Second) {
		t.Fatal("connect timed out")
	}
	if err := tok.Error(); !errors.Is(err, packets.ErrorRefusedServerUnavailable) {
		t.Errorf("connect during the outage: %v, want CONNACK 3 (server unavailable)", err)
	}
	// MQTT 5: CONNACK 0x88, which devices retry later.
	var log bytes.Buffer
	err = devicesim.Run(context.Background(), devicesim.Config{
		Addr: srv.MQTTAddr().String(), ServerName: "localhost", RootCAs: pool,
		Certificate: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
		ClientID:    "sensor5", Attempts: 1, Log: &log,
	})
	if err == nil || !strings.Contains(err.Error(), "server unavailable (0x88)") {
		t.Errorf("MQTT 5 connect during the outage: %v, want CONNACK 0x88 (server unavailable)\n%s", err, log.String())
	}
	if n := srv.Broker.Stats().GateErrors; n != 2 {
		t.Errorf("gate errors counted: %d, want 2", n)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "database is closed") {
		t.Errorf("no ERROR line naming the database failure in the log:\n%s", logs.String())
	}
	if code := readyz(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d, want 503", code)
	}
}
