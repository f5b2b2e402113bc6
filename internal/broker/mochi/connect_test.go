package mochi

import (
	"fmt"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
)

func TestConnectAllowed(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(fmt.Sprintf("mqtt%d", v), func(t *testing.T) {
			e := newEnv(t)
			c := e.dialRaw("device-1", v)
			c.mustConnect("thing-1", withWill("will/thing-1", false))
			c.roundTrip()

			req, ok := e.gate.lastRequest()
			if !ok {
				t.Fatal("the gate was not asked")
			}
			if len(req.Chain) != 1 || req.Chain[0].Subject.CommonName != "device-1" {
				t.Errorf("chain = %v, want the device-1 certificate", req.Chain)
			}
			if req.ServerName != "localhost" || req.ClientID != "thing-1" || req.ProtocolVersion != v ||
				!req.CleanSession || !req.HasWill || req.RemoteAddr != c.c.LocalAddr().String() {
				t.Errorf("request = %+v", req)
			}
			if got := e.b.Stats().Connections; got != 1 {
				t.Errorf("Stats().Connections = %d, want 1", got)
			}
		})
	}
}

func TestConnectRefused(t *testing.T) {
	tests := []struct {
		name    string
		version byte
		err     error
		want    int // CONNACK reason code, -1 for none (dropped)
	}{
		{"drop/mqtt4", 4, &broker.RefusedError{How: broker.Drop, Reason: "jitp"}, -1},
		{"drop/mqtt5", 5, &broker.RefusedError{How: broker.Drop, Reason: "jitp"}, -1},
		{"not authorized/mqtt4", 4, &broker.RefusedError{How: broker.NotAuthorized, Reason: "policy"}, 5},
		{"not authorized/mqtt5", 5, &broker.RefusedError{How: broker.NotAuthorized, Reason: "policy"}, 0x87},
		{"gate error/mqtt4", 4, errGateDown, 3},
		{"gate error/mqtt5", 5, errGateDown, 0x88},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.gate.refuse("bad", tt.err)
			c := e.dialRaw("bad", tt.version)
			c.connect("thing", true)
			if tt.want >= 0 {
				ack := c.expect(packets.Connack)
				if int(ack.ReasonCode) != tt.want || ack.SessionPresent {
					t.Errorf("CONNACK code %#x session present %v, want %#x", ack.ReasonCode, ack.SessionPresent, tt.want)
				}
			}
			c.expectClosed()
			if n := e.gate.sessionCount("thing"); n != 0 {
				t.Errorf("%d sessions admitted", n)
			}
			if s := e.b.Stats(); s.Connections != 0 || s.Refused+s.GateErrors != 1 {
				t.Errorf("Stats() = %+v, want 0 connections, 1 refused or gate error", s)
			}
		})
	}
}

func TestConnectReservedClientID(t *testing.T) {
	mochiOnly(t, "inline client id")
	e := newEnv(t)
	c := e.dialRaw("device", 4)
	if code := c.connackCode("inline"); code != 2 {
		t.Errorf("CONNACK %#x, want 2 (identifier rejected)", code)
	}
	c.expectClosed()
}

func TestKeepaliveAWSRange(t *testing.T) {
	tests := []struct{ asked, want uint16 }{{0, 1200}, {5, 30}, {60, 0}, {5000, 1200}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.asked), func(t *testing.T) {
			e := newEnv(t)
			c := e.dialRaw("device", 5)
			ack := c.mustConnect("thing", func(pk *packets.Packet) { pk.Connect.Keepalive = tt.asked })
			got := uint16(0)
			if ack.Properties.ServerKeepAliveFlag {
				got = ack.Properties.ServerKeepAlive
			}
			if got != tt.want {
				t.Errorf("server keep-alive %d, want %d (0: the client's)", got, tt.want)
			}
		})
	}
}

func TestConnackAdvertisesLimits(t *testing.T) {
	e := newEnv(t)
	c := e.dialRaw("device", 5)
	ack := c.mustConnect("thing")
	p := ack.Properties
	if p.MaximumPacketSize != DefaultMaxPacketSize {
		t.Errorf("maximum packet size %d, want %d", p.MaximumPacketSize, DefaultMaxPacketSize)
	}
	if !p.MaximumQosFlag || p.MaximumQos != 1 {
		t.Errorf("maximum QoS %d (flag %v), want 1", p.MaximumQos, p.MaximumQosFlag)
	}
	if !p.SubIDAvailableFlag || p.SubIDAvailable != 0 {
		t.Errorf("subscription identifiers available %d (flag %v), want 0", p.SubIDAvailable, p.SubIDAvailableFlag)
	}
	if p.ReceiveMaximum != receiveMaximum {
		t.Errorf("receive maximum %d, want %d", p.ReceiveMaximum, receiveMaximum)
	}
}

func TestSessionTakeover(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(fmt.Sprintf("mqtt%d", v), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("dup")
			old := e.dialRaw("device", v)
			old.mustConnect("dup")
			if codes := old.subscribe(1, "dup/in"); codes[0] != 1 {
				t.Fatalf("SUBACK %v", codes)
			}

			newer := e.dialRaw("device", v)
			newer.mustConnect("dup")

			if v == 5 {
				if d := old.expect(packets.Disconnect); d.ReasonCode != packets.ErrSessionTakenOver.Code {
					t.Errorf("old connection: DISCONNECT %#x, want 0x8E", d.ReasonCode)
				}
			}
			old.expectClosed()
			waitFor(t, "the old session closed", func() bool { return e.gate.session("dup", 0).wasClosed() })
			if s := e.gate.session("dup", 1); s == nil || s.wasClosed() {
				t.Fatal("the new session is not open")
			}

			// The new connection works, in both directions.
			if codes := newer.subscribe(2, "dup/in"); codes[0] != 1 {
				t.Fatalf("SUBACK %v", codes)
			}
			newer.publish("dup/in", "hello", 1, false, 3)
			newer.expect(packets.Puback)
			if pk := newer.nextPublish(); string(pk.Payload) != "hello" {
				t.Errorf("got %q", pk.Payload)
			}
			if got := e.b.Stats().Connections; got != 1 {
				t.Errorf("Stats().Connections = %d, want 1", got)
			}
		})
	}
}
