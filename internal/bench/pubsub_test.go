package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPubSub sends messages from devices, each under its own thing name, to
// subscribers with the fixture's admin identity, at QoS 0 and 1.
func TestPubSub(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var pubs []tls.Certificate
	for i := range 2 {
		dev, err := e.fixture.Device(ctx, e.ep, fmt.Sprintf("pub-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, dev)
	}
	admin, err := e.fixture.Admin(ctx, e.ep)
	if err != nil {
		t.Fatal(err)
	}
	// Fewer than AWS's 100 messages per connection at once (publishes and
	// deliveries together), which the server may enforce.
	const messages = 40
	for _, qos := range []byte{0, 1} {
		t.Run(fmt.Sprintf("qos %d", qos), func(t *testing.T) {
			s, err := RunPubSub(ctx, PubSubConfig{
				Endpoint: e.ep, PublisherCerts: pubs, SubscriberCert: admin,
				Publishers: 2, Subscribers: 2, QoS: qos, PayloadSize: 64, Messages: messages, Window: 10,
			})
			if err != nil {
				t.Fatal(err)
			}
			if s.Filter != "+/bench" || s.Topic != e.fixture.Prefix+"-pub-0/bench" {
				t.Errorf("topic %q, filter %q", s.Topic, s.Filter)
			}
			checkPubSub(t, s, 2*messages, 2)
		})
	}
}

// TestPubSubOneIdentity publishes and subscribes with one device's
// certificate, as against a broker with a per-client ACL: everything under
// the device's name.
func TestPubSubOneIdentity(t *testing.T) {
	e := newEnv(t)
	dev, err := e.fixture.Device(context.Background(), e.ep, "device")
	if err != nil {
		t.Fatal(err)
	}
	s, err := RunPubSub(context.Background(), PubSubConfig{
		Endpoint: e.ep, PublisherCerts: []tls.Certificate{dev}, SubscriberCert: dev,
		Publishers: 3, Subscribers: 1, QoS: 1, PayloadSize: MinPayload, Duration: 300 * time.Millisecond, Rate: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.fixture.Prefix + "-device/bench"; s.Filter != want {
		t.Errorf("filter %q, want the shared topic %q", s.Filter, want)
	}
	if s.Published < 3 {
		t.Errorf("published %d in 300ms at 50/s from 3 publishers", s.Published)
	}
	checkPubSub(t, s, s.Published, 1)
}

// TestPubSubRefused checks that a subscriber whose policy refuses the filter
// stops the scenario with an error that says so.
func TestPubSubRefused(t *testing.T) {
	e := newEnv(t)
	dev, err := e.fixture.Device(context.Background(), e.ep, "device")
	if err != nil {
		t.Fatal(err)
	}
	_, err = RunPubSub(context.Background(), PubSubConfig{
		Endpoint: e.ep, PublisherCerts: []tls.Certificate{dev}, SubscriberCert: dev,
		Publishers: 1, Subscribers: 1, PayloadSize: 64, Messages: 1, Filter: "+/bench",
	})
	if err == nil || !strings.Contains(err.Error(), "+/bench") {
		t.Errorf("RunPubSub = %v; want an error about the refused filter", err)
	}
}

// checkPubSub checks that a summary adds up: at QoS 1 nothing is lost.
func checkPubSub(t *testing.T, s *PubSubSummary, published int64, subscribers int64) {
	t.Helper()
	if s.Published != published || s.Unacknowledged != 0 || s.Failed != 0 {
		t.Fatalf("published %d (want %d), unacknowledged %d, failed %d: %v", s.Published, published, s.Unacknowledged, s.Failed, s.Failures)
	}
	if s.Expected != published*subscribers || s.Delivered+s.Lost != s.Expected {
		t.Errorf("expected %d, delivered %d, lost %d: do not add up", s.Expected, s.Delivered, s.Lost)
	}
	if s.QoS == 1 && (s.Lost != 0 || s.Delivered != s.Expected) {
		t.Errorf("QoS 1: lost %d of %d", s.Lost, s.Expected)
	}
	if s.Duplicates != 0 {
		t.Errorf("%d duplicates", s.Duplicates)
	}
	checkLatency(t, "latency", s.Latency, s.Delivered)
	if s.Delivered > 0 && (s.DeliveryRate <= 0 || s.Elapsed <= 0) {
		t.Errorf("delivered %d at %v/s in %vs", s.Delivered, s.DeliveryRate, s.Elapsed)
	}
}

func TestDefaultFilter(t *testing.T) {
	pubs := func(topics ...string) []*publisher {
		var ps []*publisher
		for _, tp := range topics {
			ps = append(ps, &publisher{topic: tp})
		}
		return ps
	}
	for _, tc := range []struct {
		name, tmpl string
		pubs       []*publisher
		want       string
	}{
		{"one identity", "{cn}/bench", pubs("dev/bench", "dev/bench"), "dev/bench"},
		{"one identity per publisher", "{cn}/bench", pubs("dev-0/bench", "dev-1/bench"), "+/bench"},
		{"placeholders inside levels", "fleet/{cn}-{i}/data", pubs("fleet/d-0/data", "fleet/d-1/data"), "fleet/+/data"},
		{"several levels", "{cn}/bench/{i}", pubs("d/bench/0", "d/bench/1"), "+/bench/+"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultFilter(tc.tmpl, tc.pubs); got != tc.want {
				t.Errorf("defaultFilter(%q) = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	b := make([]byte, MinPayload)
	putPayload(b, 1234567*time.Microsecond, 3, 1<<40+5)
	sent, pub, seq, ok := parsePayload(b)
	if !ok || sent != 1234567*time.Microsecond || pub != 3 || seq != 1<<40+5 {
		t.Errorf("parsePayload = %v, %d, %d, %v", sent, pub, seq, ok)
	}
	if _, _, _, ok := parsePayload(b[:MinPayload-1]); ok {
		t.Error("a payload too short to carry the header parsed")
	}
}

func TestSubscriberMark(t *testing.T) {
	s := &subscriber{seen: make([][]uint64, 2)}
	for _, tc := range []struct {
		pub  int
		seq  uint64
		want bool
	}{{0, 0, false}, {0, 0, true}, {1, 0, false}, {0, 63, false}, {0, 64, false}, {0, 1000, false}, {0, 64, true}, {1, 1000, false}, {1, 1000, true}} {
		if got := s.mark(tc.pub, tc.seq); got != tc.want {
			t.Errorf("mark(%d, %d) = %v, want %v", tc.pub, tc.seq, got, tc.want)
		}
	}
}
