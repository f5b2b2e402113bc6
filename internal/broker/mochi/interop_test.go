package mochi

import (
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// MQTT 5 interoperability: what a spec-conforming client (the Eclipse Paho
// interoperability suite's checks, redone here with raw packets) sees.

// A QoS 1 PUBLISH is acknowledged with PUBACK 0x00 success, as AWS does:
// 0x01 is a SUBACK code (granted QoS 1), not allowed in a PUBACK
// [MQTT-3.4.2-1]; and the PUBACK carries none of the PUBLISH's properties
// (mochi echoes them unless told not to).
func TestPubackMQTT5(t *testing.T) {
	tests := []struct {
		name       string
		subscribed bool
	}{
		{"no subscriber", false},
		{"a subscriber", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("pub")
			var w *rawClient
			if tt.subscribed {
				w = e.watcher("w", "t/#")
			}
			p := e.dialRaw("device", 5)
			p.mustConnect("pub")
			p.send(packets.Packet{
				FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
				TopicName:   "t/1",
				Payload:     []byte("hello"),
				PacketID:    7,
				Properties: packets.Properties{
					User:          []packets.UserProperty{{Key: "k", Val: "v"}},
					ContentType:   "text/plain",
					PayloadFormat: 1, PayloadFormatFlag: true,
				},
			})
			ack := p.expect(packets.Puback)
			if ack.PacketID != 7 || ack.ReasonCode != packets.CodeSuccess.Code {
				t.Errorf("PUBACK id %d reason %#x, want id 7 reason 0x00", ack.PacketID, ack.ReasonCode)
			}
			if len(ack.Properties.User) != 0 || ack.Properties.ReasonString != "" {
				t.Errorf("PUBACK properties %+v, want none", ack.Properties)
			}
			if w != nil {
				pk := w.expectOnly("t/1", "hello")
				if len(pk.Properties.User) != 1 || pk.Properties.User[0] != (packets.UserProperty{Key: "k", Val: "v"}) {
					t.Errorf("delivered user properties %v, want k=v [MQTT-3.3.2-17]", pk.Properties.User)
				}
			}
		})
	}
}

// A message is delivered with a Message Expiry Interval only if its
// publisher set one, and then with the time it has left [MQTT-3.3.2-6]; a
// message without one does not expire. Retained messages too.
func TestMessageExpiry(t *testing.T) {
	tests := []struct {
		name       string
		expiry     uint32 // set by the publisher; 0: none
		wantAtMost uint32 // 0: no property
	}{
		{"none", 0, 0},
		{"set", 3600, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("pub")
			w := e.watcher("w", "t/#")
			p := e.dialRaw("device", 5)
			p.mustConnect("pub")
			p.send(packets.Packet{
				FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1, Retain: true},
				TopicName:   "t/1",
				Payload:     []byte("hello"),
				PacketID:    1,
				Properties:  packets.Properties{MessageExpiryInterval: tt.expiry},
			})
			p.expect(packets.Puback)
			check := func(what string, pk packets.Packet) {
				t.Helper()
				got := pk.Properties.MessageExpiryInterval
				switch {
				case tt.wantAtMost == 0 && got != 0:
					t.Errorf("%s: message expiry interval %d, want none (the publisher set none)", what, got)
				case tt.wantAtMost != 0 && (got == 0 || got > tt.wantAtMost):
					t.Errorf("%s: message expiry interval %d, want 1 to %d", what, got, tt.wantAtMost)
				}
			}
			check("live", w.expectOnly("t/1", "hello"))

			// The retained copy, to a new subscriber.
			r := e.watcher("r", "t/1")
			pk := r.expectOnly("t/1", "hello")
			if !pk.FixedHeader.Retain {
				t.Error("retained copy without the retain flag")
			}
			check("retained", pk)
		})
	}
}

// iotcore offers no enhanced authentication: a device that asks for it
// is refused with CONNACK 0x8C [MQTT-4.12.0-1], rather than left waiting
// for an AUTH that never comes.
func TestEnhancedAuthenticationRefused(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("dev")
	c := e.dialRaw("device", 5)
	code := c.connackCode("dev", func(pk *packets.Packet) {
		pk.Properties.AuthenticationMethod = "SCRAM-SHA-1"
		pk.Properties.AuthenticationData = []byte("client-first")
	})
	if code != packets.ErrBadAuthenticationMethod.Code {
		t.Errorf("CONNACK %#x, want %#x", code, packets.ErrBadAuthenticationMethod.Code)
	}
	c.expectClosed()
	if n := e.gate.requestCount(); n != 0 {
		t.Errorf("the gate was asked %d times, want never", n)
	}
}

// A will at QoS 2 is refused, as QoS 2 is wherever a device asks for it:
// AWS supports QoS 0 and 1 only [AWS 8.2]. MQTT 5 devices get CONNACK 0x9B
// QoS not supported [MQTT-3.2.2-12]. MQTT 3.1.1 has no return code for it,
// so the connection is closed without a CONNACK [MQTT-3.2.2-6] (3.1.1),
// rather than told "server unavailable", which asks the device to retry.
func TestWillQoS2Refused(t *testing.T) {
	withWillQoS2 := func(pk *packets.Packet) {
		withWill("will/dev", false)(pk)
		pk.Connect.WillQos = 2
	}
	t.Run("MQTT 3.1.1", func(t *testing.T) {
		e := newEnv(t)
		e.gate.allowAll("dev")
		c := e.dialRaw("device", 4)
		c.connect("dev", true, withWillQoS2)
		c.expectClosed()
		if n := e.gate.requestCount(); n != 0 {
			t.Errorf("the gate was asked %d times, want never", n)
		}
		if got := e.b.Stats().Refused; got != 1 {
			t.Errorf("Stats().Refused = %d, want 1", got)
		}
	})
	t.Run("MQTT 5", func(t *testing.T) {
		e := newEnv(t)
		e.gate.allowAll("dev")
		c := e.dialRaw("device", 5)
		if code := c.connackCode("dev", withWillQoS2); code != packets.ErrQosNotSupported.Code {
			t.Errorf("CONNACK %#x, want %#x", code, packets.ErrQosNotSupported.Code)
		}
		c.expectClosed()
	})
	t.Run("QoS 1 accepted", func(t *testing.T) {
		e := newEnv(t)
		e.gate.allowAll("dev")
		c := e.dialRaw("device", 4)
		c.mustConnect("dev", func(pk *packets.Packet) {
			withWill("will/dev", false)(pk)
			pk.Connect.WillQos = 1
		})
	})
}
