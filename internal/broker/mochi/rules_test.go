package mochi

import (
	"strings"
	"sync"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/rules"
)

// fakeRules records what the broker hands the rules engine; it wants every
// topic under prefix, and Basic Ingest topics.
type fakeRules struct {
	prefix string
	mu     sync.Mutex
	got    []rules.Message
}

func (f *fakeRules) Wants(topic string) bool {
	return strings.HasPrefix(topic, f.prefix) || rules.BasicIngest(topic)
}

func (f *fakeRules) Message(m rules.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, m)
}

func (f *fakeRules) messages() []rules.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rules.Message(nil), f.got...)
}

func withRules(r Rules) func(*Config) { return func(c *Config) { c.Rules = r } }

// TestRulesSeeMessages: the rules engine gets a device's publishes (with
// its client id and certificate), Basic Ingest messages (which no
// subscriber gets, "#" included) and the server's own publishes, but not
// what the engine itself publishes; a topic it does not want is not handed
// to it.
func TestRulesSeeMessages(t *testing.T) {
	r := &fakeRules{prefix: "in/"}
	e := newEnv(t, withRules(r))
	e.gate.allowAll("pub")
	w := e.watcher("w", "#")
	p := e.dialRaw("device", 5)
	p.mustConnect("pub")
	p.publish("$aws/rules/myrule/in/a", "ingest", 1, false, 1)
	p.expect(packets.Puback)
	p.publish("in/b", "device", 1, false, 2)
	p.expect(packets.Puback)
	p.publish("other/c", "unwanted", 0, false, 0)
	w.expectOnly("in/b", "device") // the Basic Ingest message came to no subscriber
	w.expectOnly("other/c", "unwanted")
	if err := e.b.Publish("in/server", []byte("event"), false, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.b.PublishFromRules("in/republished", []byte("rule"), 0); err != nil {
		t.Fatal(err)
	}
	w.expectOnly("in/server", "event")
	w.expectOnly("in/republished", "rule")
	waitFor(t, "three messages for the rules", func() bool { return len(r.messages()) >= 3 })
	got := r.messages()
	want := []rules.Message{
		{Topic: "$aws/rules/myrule/in/a", Payload: []byte("ingest"), QoS: 1, ClientID: "pub", Principal: "cert-pub"},
		{Topic: "in/b", Payload: []byte("device"), QoS: 1, ClientID: "pub", Principal: "cert-pub"},
		{Topic: "in/server", Payload: []byte("event")},
	}
	if len(got) != len(want) {
		t.Fatalf("the rules got %d messages: %+v", len(got), got)
	}
	for i := range want {
		g := got[i]
		if g.Topic != want[i].Topic || string(g.Payload) != string(want[i].Payload) || g.QoS != want[i].QoS ||
			g.ClientID != want[i].ClientID || g.Principal != want[i].Principal || g.Received.IsZero() {
			t.Errorf("message %d: %+v, want %+v", i, g, want[i])
		}
	}
	if !e.b.Subscribed("in/nobody-subscribes-here") || e.b.Subscribed("$nothing") {
		t.Error("Subscribed does not count what the rules want")
	}
}

// TestBasicIngestTakesNoSubscribers: AWS refuses a subscription to a Basic
// Ingest topic, whatever the policy allows; the SUBSCRIBE's other filters
// are granted.
func TestBasicIngestTakesNoSubscribers(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("sub")
	for _, v := range []byte{4, 5} {
		c := e.dialRaw("device", v)
		c.mustConnect("sub")
		codes := c.subscribe(1, "$aws/rules/myrule/#", "a/b")
		if len(codes) != 2 || codes[0] < 0x80 || codes[1] != 1 {
			t.Errorf("MQTT %d: SUBACK %#v; want the Basic Ingest filter refused and a/b granted", v, codes)
		}
	}
}
