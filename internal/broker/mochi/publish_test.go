package mochi

import (
	"fmt"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
)

// watcher connects a device allowed to subscribe to and receive everything,
// subscribed to filters.
func (e *env) watcher(id string, filters ...string) *rawClient {
	e.t.Helper()
	e.gate.allow(id, broker.Subscribe, "*")
	e.gate.allow(id, broker.Receive, "*")
	w := e.dialRaw("watcher", 5)
	w.mustConnect(id)
	for i, code := range w.subscribe(1, filters...) {
		if code != 1 {
			e.t.Fatalf("watcher: SUBACK %#x for %q", code, filters[i])
		}
	}
	return w
}

// expectOnly checks that the next message w receives is on topic with
// payload: a message before it would be one that should not have come.
func (w *rawClient) expectOnly(topic, payload string) packets.Packet {
	w.t.Helper()
	pk := w.nextPublish()
	if pk.TopicName != topic || string(pk.Payload) != payload {
		w.t.Fatalf("received %q %q, want %q %q", pk.TopicName, pk.Payload, topic, payload)
	}
	return pk
}

func TestPublishDenied(t *testing.T) {
	tests := []struct {
		name    string
		version byte
		qos     byte
		retain  bool
		// what the publisher sees
		puback     byte // MQTT 5 QoS 1: PUBACK reason code
		disconnect bool // MQTT 5 QoS 0: DISCONNECT 0x87
		closed     bool
	}{
		{name: "mqtt4 qos0", version: 4, qos: 0, closed: true},
		{name: "mqtt4 qos1", version: 4, qos: 1, closed: true},
		{name: "mqtt5 qos0", version: 5, qos: 0, disconnect: true, closed: true},
		{name: "mqtt5 qos1", version: 5, qos: 1, puback: 0x87},
		{name: "mqtt5 qos1 retain without RetainPublish", version: 5, qos: 1, retain: true, puback: 0x87},
		{name: "mqtt4 retain without RetainPublish", version: 4, qos: 1, retain: true, closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.watcher("watcher", "#")
			e.gate.allow("pub", broker.Publish, "open/#")
			p := e.dialRaw("device", tt.version)
			p.mustConnect("pub")

			topic := "closed/x"
			if tt.retain {
				topic = "open/x" // iot:Publish allowed, iot:RetainPublish not
			}
			p.publish(topic, "denied", tt.qos, tt.retain, 7)
			switch {
			case tt.puback != 0:
				if ack := p.expect(packets.Puback); ack.ReasonCode != tt.puback || ack.PacketID != 7 {
					t.Errorf("PUBACK %#x for %d, want %#x for 7", ack.ReasonCode, ack.PacketID, tt.puback)
				}
			case tt.disconnect:
				if d := p.expect(packets.Disconnect); d.ReasonCode != packets.ErrNotAuthorized.Code {
					t.Errorf("DISCONNECT %#x, want 0x87", d.ReasonCode)
				}
			}
			if tt.closed {
				p.expectClosed()
			} else {
				p.publish("open/after", "allowed", 1, false, 8)
				if ack := p.expect(packets.Puback); ack.ReasonCode != 0 {
					t.Errorf("PUBACK %#x after a denial, want 0", ack.ReasonCode)
				}
				w.expectOnly("open/after", "allowed")
			}

			// The denied message went nowhere.
			if err := e.b.Publish("marker", []byte("m"), false, 0); err != nil {
				t.Fatal(err)
			}
			if !tt.closed {
				return // expectOnly above already saw the next message
			}
			w.expectOnly("marker", "m")
			if got := e.b.Stats().PublishDenied; got != 1 {
				t.Errorf("Stats().PublishDenied = %d, want 1", got)
			}
		})
	}
}

func TestPublishAllowedRetained(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(fmt.Sprintf("mqtt%d", v), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allow("pub", broker.Publish, "status/#")
			e.gate.allow("pub", broker.RetainPublish, "status/#")
			p := e.dialRaw("device", v)
			p.mustConnect("pub")
			p.publish("status/pub", "online", 1, true, 1)
			if ack := p.expect(packets.Puback); ack.ReasonCode != 0 {
				t.Fatalf("PUBACK %#x", ack.ReasonCode)
			}
			w := e.watcher("watcher", "status/pub")
			if pk := w.expectOnly("status/pub", "online"); !pk.FixedHeader.Retain {
				t.Error("retained message delivered without RETAIN [MQTT-3.3.1-8]")
			}
			if got := e.b.Stats().MessagesIn; got != 1 {
				t.Errorf("Stats().MessagesIn = %d, want 1", got)
			}
		})
	}
}

// Reserved topics cannot be retained, on AWS; with mochi a retained $aws
// message would also reach "#" subscribers.
func TestPublishRetainedReservedTopic(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("pub")
	p := e.dialRaw("device", 5)
	p.mustConnect("pub")
	p.publish("$aws/things/pub/shadow/update", "{}", 1, true, 1)
	if ack := p.expect(packets.Puback); ack.ReasonCode != 0x87 {
		t.Errorf("PUBACK %#x, want 0x87", ack.ReasonCode)
	}
	if err := e.b.Publish("$aws/events/x", []byte("{}"), true, 0); err == nil {
		t.Error("Publish retained on a reserved topic: no error")
	}
}

func TestPublishInvalidTopicName(t *testing.T) {
	tests := []struct {
		name    string
		version byte
		topic   string
		qos     byte
		code    byte // MQTT 5 DISCONNECT
	}{
		{"sys mqtt4", 4, "$SYS/broker/uptime", 1, 0},
		{"sys mqtt5", 5, "$SYS/broker/uptime", 1, 0x90},
		{"qos2 mqtt5", 5, "a/b", 2, 0x9B},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("pub")
			p := e.dialRaw("device", tt.version)
			p.mustConnect("pub")
			p.publish(tt.topic, "x", tt.qos, false, 1)
			if tt.code != 0 {
				if d := p.expect(packets.Disconnect); d.ReasonCode != tt.code {
					t.Errorf("DISCONNECT %#x, want %#x", d.ReasonCode, tt.code)
				}
			}
			p.expectClosed()
		})
	}
}

// AWS does not support QoS 2 and does not answer a QoS 2 PUBLISH from an
// MQTT 3.1.1 client; mochi would answer PUBACK.
func TestPublishQoS2MQTT4Ignored(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("pub")
	w := e.watcher("watcher", "a/#")
	p := e.dialRaw("device", 4)
	p.mustConnect("pub")
	p.publish("a/2", "two", 2, false, 1)
	p.publish("a/1", "one", 1, false, 2)
	if ack := p.expect(packets.Puback); ack.PacketID != 2 {
		t.Errorf("PUBACK for %d, want only the QoS 1 message's (2)", ack.PacketID)
	}
	w.expectOnly("a/1", "one")
}

func TestWill(t *testing.T) {
	tests := []struct {
		name      string
		allowed   bool
		published bool
	}{
		{"allowed", true, true},
		{"denied", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.watcher("watcher", "will/#", "marker")
			if tt.allowed {
				e.gate.allow("dev", broker.Publish, "will/dev")
			}
			d := e.dialRaw("device", 4)
			d.mustConnect("dev", withWill("will/dev", false))
			_ = d.c.Close() // no DISCONNECT: the will is due
			waitFor(t, "the session closed", func() bool { return e.gate.session("dev", 0).wasClosed() })

			if err := e.b.Publish("marker", []byte("m"), false, 0); err != nil {
				t.Fatal(err)
			}
			if tt.published {
				w.expectOnly("will/dev", "gone")
			}
			w.expectOnly("marker", "m")
			want := int64(1)
			if tt.allowed {
				want = 0
			}
			if got := e.b.Stats().WillsDenied; got != want {
				t.Errorf("Stats().WillsDenied = %d, want %d", got, want)
			}
		})
	}
}

// Devices publish on $aws topics (shadows, fleet provisioning) as on any
// other; the gate decides. A "+" level matches [MQTT-4.7.1-3], a leading
// wildcard does not [MQTT-4.7.2-1].
func TestPublishReservedTopic(t *testing.T) {
	e := newEnv(t)
	shadows := e.watcher("shadows", "$aws/things/+/shadow/update", "marker")
	all := e.watcher("all", "+/things/#", "marker")
	e.gate.allow("thing", broker.Publish, "$aws/things/thing/#", "marker")
	p := e.dialRaw("device", 4)
	p.mustConnect("thing")
	p.publish("$aws/things/thing/shadow/update", "{}", 1, false, 1)
	if ack := p.expect(packets.Puback); ack.ReasonCode != 0 {
		t.Fatalf("PUBACK %#x", ack.ReasonCode)
	}
	p.publish("marker", "m", 0, false, 0) // after the first, from the same device
	shadows.expectOnly("$aws/things/thing/shadow/update", "{}")
	shadows.expectOnly("marker", "m")
	all.expectOnly("marker", "m")
}

// Subscribed sees device subscriptions, wildcards and shared ones
// included, so that events nobody would receive are not built.
func TestSubscribed(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("*")
	topic := "$aws/events/presence/connected/dev1"
	if e.b.Subscribed(topic) {
		t.Fatal("subscribed before any subscription")
	}
	sub := e.dialRaw("device", 4)
	sub.mustConnect("watcher")
	if codes := sub.subscribe(1, "$aws/events/presence/+/+"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	if !e.b.Subscribed(topic) {
		t.Error("wildcard subscription not seen")
	}
	if e.b.Subscribed("$aws/events/subscriptions/subscribed/dev1") {
		t.Error("a topic nobody subscribed to is subscribed")
	}
	shared := e.dialRaw("device", 5)
	shared.mustConnect("group-member")
	if codes := shared.subscribe(1, "$share/g/fleet/+/telemetry"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	if !e.b.Subscribed("fleet/d1/telemetry") {
		t.Error("shared subscription not seen")
	}
}
