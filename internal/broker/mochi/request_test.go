package mochi

import (
	"context"
	"sync"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
)

// echoRequests handles "$aws/test/echo": it answers accepted with
// "<client>/<certificate>: <payload>", and records what it served.
type echoRequests struct {
	mu     sync.Mutex
	served []string
}

func (h *echoRequests) HandlesRequest(topic string) bool { return topic == "$aws/test/echo" }

func (h *echoRequests) HandleRequest(_ context.Context, clientID, certID, topic string, payload []byte, reply func(string, []byte)) {
	reply(topic+broker.ReplyAccepted, []byte(clientID+"/"+certID+": "+string(payload)))
	h.mu.Lock()
	h.served = append(h.served, clientID) // after the answer went out
	h.mu.Unlock()
}

// A request goes to the handler and to no subscriber; its answer goes to
// the connection that asked and to no other, even one subscribed to the
// same reply topic and allowed to receive it [AWS 6.1]; and no device may
// publish on a reply topic, whatever its policies.
func TestRequestsAnsweredToTheRequesterOnly(t *testing.T) {
	h := &echoRequests{}
	e := newEnv(t, func(c *Config) { c.Requests = h })
	for _, id := range []string{"alice", "bob"} {
		e.gate.allow(id, broker.Publish, "*")
		e.gate.allow(id, broker.Subscribe, "*")
		e.gate.allow(id, broker.Receive, "*")
	}
	alice, bob := e.dialRaw("alice", 4), e.dialRaw("bob", 4)
	alice.mustConnect("alice")
	bob.mustConnect("bob")
	for _, c := range []*rawClient{alice, bob} {
		c.subscribe(1, "$aws/test/echo/accepted", "$aws/test/echo")
	}

	alice.publish("$aws/test/echo", "hello", 1, false, 7)
	if ack := alice.expect(packets.Puback); ack.PacketID != 7 {
		t.Fatalf("PUBACK for packet %d, want 7", ack.PacketID)
	}
	got := alice.nextPublish()
	if got.TopicName != "$aws/test/echo/accepted" || string(got.Payload) != "alice/cert-alice: hello" {
		t.Fatalf("alice got %q %q, want her answer", got.TopicName, got.Payload)
	}
	// bob sees neither alice's request nor her answer: mochi delivers an
	// answer to every subscriber it is allowed to within one call, so his
	// would be queued before this PINGRESP.
	bob.roundTrip()

	// A device publishing a fake answer is refused (MQTT 3.1.1: closed).
	bob.publish("$aws/test/echo/accepted", "forged", 1, false, 8)
	bob.expectClosed()
	alice.roundTrip() // and nothing reached alice
	// The handler records alice after her answer went out: wait for it.
	waitFor(t, "alice's request recorded", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.served) > 0
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.served) != 1 || h.served[0] != "alice" {
		t.Errorf("served %v, want [alice]", h.served)
	}
	if n := e.b.Stats().Requests; n != 1 {
		t.Errorf("Stats.Requests = %d, want 1", n)
	}
}

// An answer needs iot:Receive on the reply topic, as any delivery: a claim
// policy that forgets it gets nothing, as on AWS.
func TestRequestAnswerNeedsReceive(t *testing.T) {
	h := &echoRequests{}
	e := newEnv(t, func(c *Config) { c.Requests = h })
	e.gate.allow("dev", broker.Publish, "*")
	e.gate.allow("dev", broker.Subscribe, "*")
	dev := e.dialRaw("dev", 4)
	dev.mustConnect("dev")
	dev.subscribe(1, "$aws/test/echo/accepted")
	dev.publish("$aws/test/echo", "x", 0, false, 0)
	waitFor(t, "the request to be answered", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.served) == 1
	})
	dev.roundTrip() // the answer, had it been allowed, would have come first
}

func TestRequestReplyTopic(t *testing.T) {
	h := &echoRequests{}
	for topic, want := range map[string]bool{
		"$aws/test/echo/accepted":  true,
		"$aws/test/echo/rejected":  true,
		"$aws/test/echo":           false,
		"$aws/test/echo/other":     false,
		"$aws/test/other/accepted": false,
	} {
		if got := broker.RequestReplyTopic(h, topic); got != want {
			t.Errorf("RequestReplyTopic(%q) = %v, want %v", topic, got, want)
		}
	}
	if broker.RequestReplyTopic(nil, "$aws/test/echo/accepted") {
		t.Error("a nil handler has reply topics")
	}
}

// slowRequests holds every request until released.
type slowRequests struct {
	release chan struct{}
	mu      sync.Mutex
	serving int
}

func (h *slowRequests) HandlesRequest(topic string) bool { return topic == "$aws/test/slow" }

func (h *slowRequests) HandleRequest(ctx context.Context, clientID, _, topic string, _ []byte, reply func(string, []byte)) {
	h.mu.Lock()
	h.serving++
	h.mu.Unlock()
	select {
	case <-h.release:
	case <-ctx.Done():
		return
	}
	reply(topic+broker.ReplyAccepted, []byte(clientID))
}

// One connection has at most MaxRequestsInFlight requests served at once:
// a claim shared by a fleet cannot keep every core busy making keys. The
// rest are acknowledged and not served, and counted.
func TestRequestsInFlightBounded(t *testing.T) {
	h := &slowRequests{release: make(chan struct{})}
	e := newEnv(t, func(c *Config) { c.Requests = h })
	e.gate.allow("dev", broker.Publish, "*")
	e.gate.allow("dev", broker.Subscribe, "*")
	e.gate.allow("dev", broker.Receive, "*")
	dev := e.dialRaw("dev", 4)
	dev.mustConnect("dev")
	dev.subscribe(1, "$aws/test/slow/accepted")
	const sent = MaxRequestsInFlight + 2
	for i := range sent {
		dev.publish("$aws/test/slow", "x", 1, false, uint16(10+i))
		dev.expect(packets.Puback)
	}
	waitFor(t, "the requests in flight to be served", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.serving == MaxRequestsInFlight
	})
	if st := e.b.Stats(); st.RequestsThrottled != sent-MaxRequestsInFlight || st.Requests != MaxRequestsInFlight {
		t.Errorf("requests served %d, throttled %d; want %d and %d", st.Requests, st.RequestsThrottled, MaxRequestsInFlight, sent-MaxRequestsInFlight)
	}
	close(h.release)
	for range MaxRequestsInFlight {
		if pk := dev.nextPublish(); pk.TopicName != "$aws/test/slow/accepted" {
			t.Fatalf("got %q, want an answer", pk.TopicName)
		}
	}
	// Once they are answered, the connection may ask again.
	waitFor(t, "the slots to be free", func() bool { return connOfClient(e, "dev").requests.Load() == 0 })
	dev.publish("$aws/test/slow", "x", 1, false, 99)
	dev.expect(packets.Puback)
	if pk := dev.nextPublish(); pk.TopicName != "$aws/test/slow/accepted" {
		t.Fatalf("got %q after the slots freed, want an answer", pk.TopicName)
	}
}

// connOfClient is the broker's connection of a client id.
func connOfClient(e *env, id string) *conn {
	if e.b.engine != nil {
		cl, ok := e.b.engine.Client(id)
		if !ok {
			return &conn{}
		}
		return connOfEngineClient(cl)
	}
	cl, ok := e.b.server.Clients.Get(id)
	if !ok {
		return &conn{}
	}
	return connOf(cl)
}
