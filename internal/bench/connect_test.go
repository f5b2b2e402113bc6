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
