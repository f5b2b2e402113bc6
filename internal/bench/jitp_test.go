package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestJITP onboards devices against a real gateway and checks that the
// summary adds up and that the server made a thing for each.
func TestJITP(t *testing.T) {
	e := newEnv(t)
	const devices = 12
	prefix := e.fixture.Prefix + "-jitp"
	s, err := RunJITP(context.Background(), JITPConfig{
		Endpoint: e.ep, CA: e.fixture.CA, Devices: devices, Concurrency: 4, Prefix: prefix, Country: "IN",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Provisioned != devices || s.Failed != 0 || len(s.Failures) != 0 || s.Interrupted {
		t.Fatalf("provisioned %d of %d, failed %d: %v", s.Provisioned, devices, s.Failed, s.Failures)
	}
	if s.FirstConnectionAccepted != 0 {
		t.Errorf("%d first connections accepted; iotcore drops them by default", s.FirstConnectionAccepted)
	}
	checkLatency(t, "latency", s.Latency, devices)
	checkLatency(t, "first connection", s.FirstConnection, devices)
	if s.FirstConnection.Max > s.Latency.Max {
		t.Errorf("a first connection (max %vms) took longer than a whole onboarding (max %vms)", s.FirstConnection.Max, s.Latency.Max)
	}
	if s.Rate <= 0 || s.Elapsed <= 0 || s.KeyType != "ec-p256" || s.Scenario != "jitp" || s.Endpoint != e.ep.Addr {
		t.Errorf("summary %+v", s)
	}
	if got := e.countThings(t, prefix+"-"); got != devices {
		t.Errorf("the server has %d things named %s-*, want %d", got, prefix, devices)
	}

	var text bytes.Buffer
	if err := s.WriteText(&text); err != nil || !strings.Contains(text.String(), "12 of 12 devices provisioned") {
		t.Errorf("text summary: %v\n%s", err, text.String())
	}
}

// TestJITPFailures checks that devices the server does not provision are
// counted as failures, by reason, without failing the run.
func TestJITPFailures(t *testing.T) {
	e := newEnv(t)
	other, err := Setup(context.Background(), e.api, NewPrefix())
	if err != nil {
		t.Fatal(err)
	}
	// Devices under other's CA, publishing outside their thing's topics:
	// provisioned, then disconnected at the publish.
	s, err := RunJITP(context.Background(), JITPConfig{Endpoint: e.ep, CA: other.CA, Devices: 3, Concurrency: 3, Topic: "elsewhere/{cn}"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Provisioned != 0 || s.Failed != 3 || s.Failures["publish: connection closed"] != 3 {
		t.Errorf("provisioned %d, failed %d: %v; want 3 failed publishes", s.Provisioned, s.Failed, s.Failures)
	}
	checkLatency(t, "latency", s.Latency, 0)
	checkLatency(t, "first connection", s.FirstConnection, 3)
}

// TestJITPInterrupted checks that a run whose context has ended starts no
// device and says so.
func TestJITPInterrupted(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := RunJITP(ctx, JITPConfig{Endpoint: e.ep, CA: e.fixture.CA, Devices: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Interrupted || s.Provisioned != 0 || s.Failed != 0 {
		t.Errorf("interrupted %v, provisioned %d, failed %d", s.Interrupted, s.Provisioned, s.Failed)
	}
}
