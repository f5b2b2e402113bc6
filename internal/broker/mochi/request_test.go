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
