package bench

import (
	"context"
	"testing"
)

// TestIdle holds connections until the test, having seen the server count
// them, ends the hold.
func TestIdle(t *testing.T) {
	e := newEnv(t)
	dev, err := e.fixture.Device(context.Background(), e.ep, "device")
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var serverCount int64 = -1
	s, err := RunIdle(ctx, IdleConfig{
		Endpoint: e.ep, Certificate: dev, Connections: n, Concurrency: 4,
		Ready: func(established int64) {
			serverCount = e.srv.Broker.Stats().Connections
			cancel() // Hold 0 holds until the context ends
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if serverCount != n {
		t.Errorf("the server held %d connections when told they were established, want %d", serverCount, n)
	}
	if s.Established != n || s.Alive != n || s.Failed != 0 {
		t.Fatalf("established %d, alive %d, failed %d: %v", s.Established, s.Alive, s.Failed, s.Failures)
	}
	checkLatency(t, "latency", s.Latency, n)
	if !s.Interrupted {
		t.Error("a hold ended by the context is not marked interrupted")
	}
}
