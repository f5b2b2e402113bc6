package mochi

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
)

func TestSubscribeDenied(t *testing.T) {
	for _, tt := range []struct {
		version byte
		denied  byte
	}{{4, 0x80}, {5, 0x87}} {
		t.Run(fmt.Sprintf("mqtt%d", tt.version), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allow("sub", broker.Subscribe, "open/#")
			e.gate.allow("sub", broker.Receive, "*")
			s := e.dialRaw("device", tt.version)
			s.mustConnect("sub")

			got := s.subscribe(1, "closed/#", "open/#", "closed/x", "open/x")
			want := []byte{tt.denied, 1, tt.denied, 1}
			if !slices.Equal(got, want) {
				t.Errorf("SUBACK %#x, want %#x", got, want)
			}
			if n := e.b.Stats().SubscribeDenied; n != 2 {
				t.Errorf("Stats().SubscribeDenied = %d, want 2", n)
			}

			// No subscription was made for the denied filters, although
			// iot:Receive would allow their messages.
			e.server(t, "closed/x", "no")
			e.server(t, "open/x", "yes")
			s.expectOnly("open/x", "yes")
		})
	}
}

// server publishes as the server (Broker.Publish), QoS 0.
func (e *env) server(t *testing.T, topic, payload string) {
	t.Helper()
	if err := e.b.Publish(topic, []byte(payload), false, 0); err != nil {
		t.Fatal(err)
	}
}

// AWS decides iot:Subscribe and iot:Receive apart; mochi asks one callback
// for both, with "a/b" a filter or a topic. Each combination, on a filter
// that is also a topic name.
func TestSubscribeAndReceiveDecidedApart(t *testing.T) {
	tests := []struct {
		name               string
		subscribe, receive bool
		suback             byte
		delivered          bool
	}{
		{"both", true, true, 1, true},
		{"subscribe only", true, false, 1, false},
		{"receive only", false, true, 0x87, false},
		{"neither", false, false, 0x87, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.subscribe {
				e.gate.allow("sub", broker.Subscribe, "a/b")
			}
			if tt.receive {
				e.gate.allow("sub", broker.Receive, "a/b")
			}
			e.gate.allow("sub", broker.Subscribe, "marker")
			e.gate.allow("sub", broker.Receive, "marker")
			s := e.dialRaw("device", 5)
			s.mustConnect("sub")
			if got := s.subscribe(1, "a/b", "marker"); !slices.Equal(got, []byte{tt.suback, 1}) {
				t.Fatalf("SUBACK %#x, want [%#x 1]", got, tt.suback)
			}
			e.server(t, "a/b", "message")
			e.server(t, "marker", "m")
			if tt.delivered {
				s.expectOnly("a/b", "message")
			}
			s.expectOnly("marker", "m")
		})
	}
}

// iot:Receive is decided on every delivery: a policy change applies to
// existing subscriptions.
func TestReceiveDecidedPerDelivery(t *testing.T) {
	e := newEnv(t)
	e.gate.allow("sub", broker.Subscribe, "*")
	e.gate.allow("sub", broker.Receive, "data/#", "marker")
	s := e.dialRaw("device", 4)
	s.mustConnect("sub")
	s.subscribe(1, "data/#", "marker")

	e.gate.allowAll("pub")
	p := e.dialRaw("device", 4)
	p.mustConnect("pub")
	p.publish("data/1", "before", 1, false, 1)
	p.expect(packets.Puback)
	s.expectOnly("data/1", "before")

	e.gate.revoke("sub", broker.Receive)
	e.gate.allow("sub", broker.Receive, "marker")
	// One publisher, so the marker is routed after the denied message.
	p.publish("data/1", "after", 1, false, 2)
	p.publish("marker", "m", 1, false, 3)
	s.expectOnly("marker", "m")
	if n := e.b.Stats().ReceiveDenied; n != 1 {
		t.Errorf("Stats().ReceiveDenied = %d, want 1", n)
	}
}

// subscribeAll sends one SUBSCRIBE per filter without waiting, and returns
// the first n messages it receives. A SUBSCRIBE's retained messages are
// queued before the next SUBSCRIBE is read, so a retained message on the
// last filter comes after every message the others let through.
func (c *rawClient) subscribeAll(n int, filters ...string) []string {
	c.t.Helper()
	for i, f := range filters {
		c.send(packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Subscribe},
			PacketID:    uint16(i + 1),
			Filters:     packets.Subscriptions{{Filter: f, Qos: 1}},
		})
	}
	var got []string
	for len(got) < n {
		pk, err := c.recv(waitTimeout)
		if err != nil {
			c.t.Fatalf("after %q: %v", got, err)
		}
		if pk.FixedHeader.Type == packets.Publish {
			got = append(got, pk.TopicName+" "+string(pk.Payload))
		}
	}
	return got
}

// Retained messages sent on subscribe are deliveries too.
func TestRetainedNeedsReceive(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("pub")
	p := e.dialRaw("device", 5)
	p.mustConnect("pub")
	for i, topic := range []string{"cfg/secret", "cfg/public", "marker"} {
		p.publish(topic, topic, 1, true, uint16(i+1))
		p.expect(packets.Puback)
	}

	e.gate.allow("sub", broker.Subscribe, "*")
	e.gate.allow("sub", broker.Receive, "cfg/public", "marker")
	s := e.dialRaw("device", 5)
	s.mustConnect("sub")
	got := s.subscribeAll(2, "cfg/#", "marker")
	if want := []string{"cfg/public cfg/public", "marker marker"}; !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
}

// $aws/events/# receives server-published events when authorized; "#" does
// not match $ topics [MQTT-4.7.2-1].
func TestServerEvents(t *testing.T) {
	e := newEnv(t)
	events := e.watcher("events", "$aws/events/#", "marker")
	all := e.watcher("all", "#")

	e.gate.allow("denied", broker.Subscribe, "*")
	e.gate.allow("denied", broker.Receive, "marker")
	denied := e.dialRaw("device", 4)
	denied.mustConnect("denied")
	denied.subscribe(1, "$aws/events/#", "marker")

	const topic = "$aws/events/presence/connected/thing-1"
	e.server(t, topic, `{"eventType":"connected"}`)
	e.server(t, "marker", "m")

	events.expectOnly(topic, `{"eventType":"connected"}`)
	events.expectOnly("marker", "m")
	all.expectOnly("marker", "m")
	denied.expectOnly("marker", "m")
	if got := e.b.Stats().Published; got != 2 {
		t.Errorf("Stats().Published = %d, want 2", got)
	}
}

// mochi's own $SYS topics (retained, published at start) are never
// delivered: AWS has none.
func TestNoSysTopics(t *testing.T) {
	e := newEnv(t)
	if err := e.b.Publish("marker", []byte("m"), true, 0); err != nil {
		t.Fatal(err)
	}
	e.gate.allow("w", broker.Subscribe, "*")
	e.gate.allow("w", broker.Receive, "*")
	w := e.dialRaw("device", 5)
	w.mustConnect("w")
	if got := w.subscribeAll(1, "$SYS/#", "marker"); got[0] != "marker m" {
		t.Errorf("received %q first", got[0])
	}
}

// A persistent session queues QoS 1 messages while its device is offline;
// the session that resumes it decides iot:Receive on them again.
func TestResumedSessionDecidesReceiveAgain(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(fmt.Sprintf("mqtt%d", v), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allow("p", broker.Subscribe, "*")
			e.gate.allow("p", broker.Receive, "q/#")
			p := e.dialRaw("device", v)
			p.connect("p", false, persistent)
			p.expect(packets.Connack)
			p.subscribe(1, "q/#")
			p.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
			p.expectClosed()
			waitFor(t, "the session closed", func() bool { return e.gate.session("p", 0).wasClosed() })

			e.gate.allowAll("pub")
			pub := e.dialRaw("device", 4)
			pub.mustConnect("pub")
			for i, topic := range []string{"q/secret", "q/ok"} {
				pub.publish(topic, topic, 1, false, uint16(i+1))
				pub.expect(packets.Puback)
			}
			waitFor(t, "two messages queued", func() bool { return e.b.Stats().Inflight == 2 })

			e.gate.revoke("p", broker.Receive)
			e.gate.allow("p", broker.Receive, "q/ok")
			p = e.dialRaw("device", v)
			p.connect("p", false, persistent)
			if ack := p.expect(packets.Connack); ack.ReasonCode != 0 || !ack.SessionPresent {
				t.Fatalf("CONNACK %#x, session present %v", ack.ReasonCode, ack.SessionPresent)
			}
			p.expectOnly("q/ok", "q/ok")
			// mochi resends queued messages before it reads the next packet.
			p.roundTrip()
		})
	}
}
