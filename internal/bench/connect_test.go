package bench

import (
	"context"
	"testing"
	"time"
)

// TestConnect connects over and over with one provisioned device's
// certificate, counted and timed.
func TestConnect(t *testing.T) {
	e := newEnv(t)
	dev, err := e.fixture.Device(context.Background(), e.ep, "device")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("count", func(t *testing.T) {
		s, err := RunConnect(context.Background(), ConnectConfig{Endpoint: e.ep, Certificate: dev, Concurrency: 3, Count: 30})
		if err != nil {
			t.Fatal(err)
		}
		if s.Connects != 30 || s.Failed != 0 || s.Interrupted {
			t.Fatalf("%d connects, %d failed: %v", s.Connects, s.Failed, s.Failures)
		}
		checkLatency(t, "latency", s.Latency, 30)
		if s.Rate <= 0 || s.Concurrency != 3 {
			t.Errorf("summary %+v", s)
		}
	})
	t.Run("duration", func(t *testing.T) {
		s, err := RunConnect(context.Background(), ConnectConfig{Endpoint: e.ep, Certificate: dev, Concurrency: 2, Duration: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if s.Connects < 1 || s.Failed != 0 {
			t.Fatalf("%d connects, %d failed: %v", s.Connects, s.Failed, s.Failures)
		}
		checkLatency(t, "latency", s.Latency, s.Connects)
	})
	t.Run("device path", func(t *testing.T) {
		// Go's default: the hybrid key exchange, the chain presented.
		s, err := RunConnect(context.Background(), ConnectConfig{Endpoint: e.ep, Certificate: dev, Concurrency: 2, Count: 4})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.TLS; got.KeyExchange != KeyExchangeGo || got.Negotiated["TLS 1.3 X25519MLKEM768"] != 4 || got.ChainCertificates != 2 {
			t.Errorf("Go's default: TLS report %+v; want 4 handshakes with X25519MLKEM768 and a chain of 2", got)
		}
		// What device TLS stacks offer, and their certificate alone.
		ep := e.ep
		ep.KeyExchange, ep.LeafOnly, ep.PacketPerRecord = KeyExchangeX25519, true, true
		s, err = RunConnect(context.Background(), ConnectConfig{Endpoint: ep, Certificate: dev, Concurrency: 2, Count: 4})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.TLS; s.Connects != 4 || got.KeyExchange != KeyExchangeX25519 || got.Negotiated["TLS 1.3 X25519"] != 4 ||
			len(got.Negotiated) != 1 || got.ChainCertificates != 1 || !got.PacketPerRecord {
			t.Errorf("x25519, leaf only: %d connects, TLS report %+v", s.Connects, got)
		}
		ep.KeyExchange = KeyExchangeP256
		s, err = RunConnect(context.Background(), ConnectConfig{Endpoint: ep, Certificate: dev, Concurrency: 1, Count: 2})
		if err != nil || s.TLS.Negotiated["TLS 1.3 CurveP256"] != 2 {
			t.Errorf("p256: %v, TLS report %+v", err, s.TLS)
		}
	})
	t.Run("client id not allowed", func(t *testing.T) {
		s, err := RunConnect(context.Background(), ConnectConfig{Endpoint: e.ep, Certificate: dev, Concurrency: 2, Count: 4, ClientID: "someone-else-{i}"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Connects != 0 || s.Failed != 4 || s.Failures["connect: CONNACK refused: not authorized (5)"] != 4 {
			t.Errorf("%d connects, failures %v; want 4 refused", s.Connects, s.Failures)
		}
	})
	t.Run("shared client id", func(t *testing.T) {
		if _, err := RunConnect(context.Background(), ConnectConfig{Endpoint: e.ep, Certificate: dev, Concurrency: 2, Count: 4, ClientID: "{cn}"}); err == nil {
			t.Error("two workers with one client ID: no error")
		}
	})
}
