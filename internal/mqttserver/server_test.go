package mqttserver

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

func TestPublishSubscribe(t *testing.T) {
	versions(t, func(t *testing.T, v byte) {
		s := startServer(t, Options{}, nil)
		sub := s.dial(t, v)
		if ack := sub.connect(packet.Connect{ClientID: "sub", Clean: true, KeepAlive: 60}); ack.Code != 0 || ack.SessionPresent {
			t.Fatalf("CONNACK %+v", ack)
		}
		if codes := sub.subscribe(1, packet.Subscription{Filter: "dev/+/data", QoS: 1}, packet.Subscription{Filter: "dev/#"}); !bytes.Equal(codes, []byte{1, 0}) {
			t.Fatalf("SUBACK codes % x", codes)
		}
		pub := s.dial(t, v)
		pub.connect(packet.Connect{ClientID: "pub", Clean: true})
		pub.publish(packet.Publish{Topic: "dev/1/data", QoS: 1, PacketID: 7, Payload: []byte("one")})
		if a := pub.expectAck(packet.PUBACK, 7); a.Code != 0 {
			t.Errorf("PUBACK code 0x%02X", a.Code)
		}
		// Two matching filters, one delivery at the higher QoS [MQTT-3.3.4-2].
		got := sub.receive()
		if got.Topic != "dev/1/data" || string(got.Payload) != "one" || got.QoS != 1 || got.PacketID == 0 || got.Retain {
			t.Fatalf("delivered %+v", got)
		}
		sub.puback(got.PacketID)
		pub.publish(packet.Publish{Topic: "dev/2/other", Payload: []byte("two")})
		if got := sub.receive(); got.Topic != "dev/2/other" || got.QoS != 0 {
			t.Fatalf("delivered %+v", got)
		}
		sub.nothingBefore()
		pub.disconnect()
		sub.disconnect()
		iottest.WaitFor(t, "both disconnected", func() bool { return len(s.hooks.disconnects("pub")) == 1 && len(s.hooks.disconnects("sub")) == 1 })
		if err := s.hooks.disconnects("pub")[0]; err != nil {
			t.Errorf("DISCONNECT reported as %v", err)
		}
		iottest.WaitFor(t, "sessions gone", func() bool { st := s.Stats(); return st.Sessions == 0 && st.Subscriptions == 0 })
	})
}

func TestRetained(t *testing.T) {
	versions(t, func(t *testing.T, v byte) {
		s := startServer(t, Options{}, nil)
		pub := s.dial(t, v)
		pub.connect(packet.Connect{ClientID: "pub", Clean: true})
		pub.publish(packet.Publish{Topic: "r/a", QoS: 1, PacketID: 1, Retain: true, Payload: []byte("kept")})
		pub.expectAck(packet.PUBACK, 1)

		sub := s.dial(t, v)
		sub.connect(packet.Connect{ClientID: "sub", Clean: true})
		sub.subscribe(1, packet.Subscription{Filter: "r/+", QoS: 1})
		got := sub.receive()
		if got.Topic != "r/a" || !got.Retain || string(got.Payload) != "kept" || got.QoS != 1 {
			t.Fatalf("retained delivery %+v", got) // [MQTT-3.3.1-8]
		}
		sub.puback(got.PacketID)
		// Live: RETAIN cleared [MQTT-3.3.1-12].
		pub.publish(packet.Publish{Topic: "r/a", Retain: true, Payload: []byte("new")})
		if got := sub.receive(); got.Retain || string(got.Payload) != "new" {
			t.Fatalf("live delivery %+v", got)
		}
		// An empty retained payload deletes it, and is delivered.
		pub.publish(packet.Publish{Topic: "r/a", Retain: true})
		if got := sub.receive(); len(got.Payload) != 0 {
			t.Fatalf("delete delivered as %+v", got)
		}
		sub.nothingBefore()
		iottest.WaitFor(t, "retained deleted", func() bool { return s.Stats().Retained == 0 })
	})
}

func TestPersistentSession(t *testing.T) {
	versions(t, func(t *testing.T, v byte) {
		s := startServer(t, Options{}, nil)
		persistent := packet.Connect{ClientID: "p", KeepAlive: 60}
		if v == packet.Version5 {
			persistent.Props.SessionExpiry = 600
			persistent.Props.Set(packet.PropSessionExpiry)
		}
		sub := s.dial(t, v)
		if ack := sub.connect(persistent); ack.SessionPresent {
			t.Fatal("new session present")
		}
		sub.subscribe(1, packet.Subscription{Filter: "q", QoS: 1})
		pub := s.dial(t, v)
		pub.connect(packet.Connect{ClientID: "pub", Clean: true})
		pub.publish(packet.Publish{Topic: "q", QoS: 1, PacketID: 1, Payload: []byte("1")})
		pub.expectAck(packet.PUBACK, 1)
		first := sub.receive()
		_ = sub.nc.Close() // no PUBACK, no DISCONNECT
		iottest.WaitFor(t, "sub offline", func() bool { return len(s.hooks.disconnects("p")) == 1 })
		pub.publish(packet.Publish{Topic: "q", QoS: 1, PacketID: 2, Payload: []byte("2")})
		pub.expectAck(packet.PUBACK, 2)
		pub.publish(packet.Publish{Topic: "q", QoS: 0, Payload: []byte("qos0 lost offline")})
		pub.nothingBefore() // the server has routed it: packets are handled in order

		sub = s.dial(t, v)
		if ack := sub.connect(persistent); !ack.SessionPresent {
			t.Fatal("session not resumed") // [MQTT-3.2.2-2]
		}
		again := sub.receive()
		if !again.Dup || again.PacketID != first.PacketID || string(again.Payload) != "1" {
			t.Fatalf("resent %+v, first %+v", again, first) // [MQTT-4.4.0-1]
		}
		queued := sub.receive()
		if queued.Dup || string(queued.Payload) != "2" {
			t.Fatalf("queued %+v", queued)
		}
		sub.puback(again.PacketID)
		sub.puback(queued.PacketID)
		sub.nothingBefore()

		// A clean start ends the session [MQTT-3.1.2-4].
		sub.disconnect()
		iottest.WaitFor(t, "sub offline", func() bool { return len(s.hooks.disconnects("p")) == 2 })
		sub = s.dial(t, v)
		if ack := sub.connect(packet.Connect{ClientID: "p", Clean: true}); ack.SessionPresent {
			t.Fatal("clean start resumed the session")
		}
		pub.publish(packet.Publish{Topic: "q", QoS: 1, PacketID: 3})
		pub.expectAck(packet.PUBACK, 3)
		sub.nothingBefore()
	})
}

func TestSendWindow(t *testing.T) {
	s := startServer(t, Options{}, nil)
	sub := s.dial(t, packet.Version5)
	c := packet.Connect{ClientID: "sub", Clean: true}
	c.Props.ReceiveMaximum = 2
	c.Props.Set(packet.PropReceiveMaximum)
	sub.connect(c)
	sub.subscribe(1, packet.Subscription{Filter: "w", QoS: 1})
	pub := s.dial(t, packet.Version5)
	pub.connect(packet.Connect{ClientID: "pub", Clean: true})
	for i := uint16(1); i <= 4; i++ {
		pub.publish(packet.Publish{Topic: "w", QoS: 1, PacketID: i, Payload: []byte{byte(i)}})
		pub.expectAck(packet.PUBACK, i)
	}
	a, b := sub.receive(), sub.receive()
	sub.nothingBefore() // two in flight, no more [MQTT-4.9.0-2]
	sub.puback(a.PacketID)
	if c := sub.receive(); c.Payload[0] != 3 {
		t.Fatalf("third delivery %+v", c)
	}
	sub.nothingBefore()
	sub.puback(b.PacketID)
	if d := sub.receive(); d.Payload[0] != 4 {
		t.Fatalf("fourth delivery %+v", d)
	}
}

func TestTakeover(t *testing.T) {
	versions(t, func(t *testing.T, v byte) {
		s := startServer(t, Options{}, nil)
		first := s.dial(t, v)
		first.connect(packet.Connect{ClientID: "dup", Clean: true})
		second := s.dial(t, v)
		second.connect(packet.Connect{ClientID: "dup", Clean: true})
		d := first.expectClosed()
		if v == packet.Version5 && (d == nil || d.Code != packet.SessionTakenOver) {
			t.Errorf("DISCONNECT %+v, want 0x8E", d) // [MQTT-3.1.4-3]
		}
		iottest.WaitFor(t, "OnDisconnect", func() bool { return len(s.hooks.disconnects("dup")) > 0 })
		if errs := s.hooks.disconnects("dup"); len(errs) != 1 || !errors.Is(errs[0], errTakenOver) {
			t.Errorf("OnDisconnect errors %v", errs)
		}
		second.nothingBefore()
	})
}

func TestWill(t *testing.T) {
	versions(t, func(t *testing.T, v byte) {
		s := startServer(t, Options{}, nil)
		watcher := s.dial(t, v)
		watcher.connect(packet.Connect{ClientID: "w", Clean: true})
		watcher.subscribe(1, packet.Subscription{Filter: "lwt/#", QoS: 1})

		gone := s.dial(t, v)
		gone.connect(packet.Connect{ClientID: "gone", Clean: true, Will: &packet.Will{Topic: "lwt/gone", Payload: []byte("bye"), QoS: 1}})
		_ = gone.nc.Close()
		got := watcher.receive()
		if got.Topic != "lwt/gone" || string(got.Payload) != "bye" || got.QoS != 1 {
			t.Fatalf("will %+v", got)
		}
		watcher.puback(got.PacketID)

		polite := s.dial(t, v)
		polite.connect(packet.Connect{ClientID: "polite", Clean: true, Will: &packet.Will{Topic: "lwt/polite"}})
		polite.disconnect()
		iottest.WaitFor(t, "polite gone", func() bool { return len(s.hooks.disconnects("polite")) == 1 })
		watcher.nothingBefore() // no will after DISCONNECT [MQTT-3.1.2-10]
	})
}

func TestWillDelayCancelledByReconnect(t *testing.T) {
	s := startServer(t, Options{}, nil)
	watcher := s.dial(t, packet.Version5)
	watcher.connect(packet.Connect{ClientID: "w", Clean: true})
	watcher.subscribe(1, packet.Subscription{Filter: "lwt"})
	c := packet.Connect{ClientID: "d", Will: &packet.Will{Topic: "lwt", Payload: []byte("late")}}
	c.Props.SessionExpiry = 60
	c.Props.Set(packet.PropSessionExpiry)
	c.Will.Props.WillDelay = 3600
	c.Will.Props.Set(packet.PropWillDelay)
	d := s.dial(t, packet.Version5)
	d.connect(c)
	_ = d.nc.Close()
	iottest.WaitFor(t, "d offline", func() bool { return len(s.hooks.disconnects("d")) == 1 })
	d = s.dial(t, packet.Version5)
	if ack := d.connect(c); !ack.SessionPresent {
		t.Fatal("session not resumed")
	}
	s.Server.mu.Lock()
	ss := s.Server.sessions["d"]
	s.Server.mu.Unlock()
	ss.mu.Lock()
	pending := ss.willAt != nil
	ss.mu.Unlock()
	if pending {
		t.Error("delayed will still pending after the session resumed") // [MQTT-3.1.3-9]
	}
	watcher.nothingBefore()
}

func TestDenials(t *testing.T) {
	versions(t, func(t *testing.T, v byte) {
		h := newTestHooks()
		h.publish = func(c *Client, pk *packet.Publish) (Verdict, byte) {
			if pk.Topic == "denied" {
				return Refuse, packet.NotAuthorized
			}
			return Route, 0
		}
		h.subscribe = func(c *Client, sub *packet.Subscription) byte {
			if sub.Filter == "secret" {
				return packet.NotAuthorized
			}
			return sub.QoS
		}
		s := startServer(t, Options{}, h)
		c := s.dial(t, v)
		c.connect(packet.Connect{ClientID: "c", Clean: true})
		want := []byte{1, packet.NotAuthorized}
		if v < packet.Version5 {
			want[1] = 0x80
		}
		if codes := c.subscribe(1, packet.Subscription{Filter: "ok", QoS: 1}, packet.Subscription{Filter: "secret"}); !bytes.Equal(codes, want) {
			t.Errorf("SUBACK codes % x, want % x", codes, want)
		}
		c.publish(packet.Publish{Topic: "denied", QoS: 1, PacketID: 5})
		if v < packet.Version5 {
			c.expectClosed()
			return
		}
		if a := c.expectAck(packet.PUBACK, 5); a.Code != packet.NotAuthorized {
			t.Errorf("PUBACK 0x%02X", a.Code)
		}
		c.publish(packet.Publish{Topic: "denied"})
		if d := c.expectClosed(); d == nil || d.Code != packet.NotAuthorized {
			t.Errorf("DISCONNECT %+v", d)
		}
	})
}

func TestConnectRefused(t *testing.T) {
	versions(t, func(t *testing.T, v byte) {
		h := newTestHooks()
		h.connect = func(c *Client, pk *packet.Connect) byte { return packet.NotAuthorized }
		s := startServer(t, Options{}, h)
		c := s.dial(t, v)
		ack := c.connect(packet.Connect{ClientID: "c", Clean: true})
		want := packet.NotAuthorized
		if v < packet.Version5 {
			want = packet.ReturnNotAuthorized
		}
		if ack.Code != want {
			t.Errorf("CONNACK 0x%02X, want 0x%02X", ack.Code, want)
		}
		c.expectClosed()
		if st := s.Stats(); st.Sessions != 0 || st.Connections != 0 {
			t.Errorf("stats after refusal %+v", st)
		}
	})
}

func TestProtocolErrors(t *testing.T) {
	cases := []struct {
		name string
		v    byte
		send []byte
		code byte // the MQTT 5 DISCONNECT's; 0: none expected
	}{
		{"subscribe without properties", packet.Version5, []byte{0x82, 2, 0, 1}, packet.MalformedPacket},
		{"subscribe without a filter", packet.Version5, []byte{0x82, 3, 0, 1, 0}, packet.ProtocolError},
		{"subscribe qos 3", packet.Version311, []byte{0x82, 6, 0, 1, 0, 1, 'a', 3}, 0},
		{"publish qos 2 mqtt 5", packet.Version5, []byte{0x34, 6, 0, 1, 't', 0, 1, 0}, packet.QoSNotSupported},
		{"second connect", packet.Version5, (&packet.Connect{Version: 5, ClientID: "x"}).Append(nil), packet.ProtocolError},
		{"pingreq with body", packet.Version311, []byte{0xC0, 1, 0}, 0},
		{"wildcard topic name", packet.Version5, []byte{0x30, 4, 0, 1, '#', 0}, packet.TopicNameInvalid},
		{"unknown alias", packet.Version5, []byte{0x30, 6, 0, 0, 3, 0x23, 0, 1}, packet.ProtocolError},
		{"alias over maximum", packet.Version5, []byte{0x30, 7, 0, 1, 't', 3, 0x23, 0, 9}, packet.TopicAliasInvalid},
		{"packet too large", packet.Version5, append([]byte{0x30, 0xE8, 0x07, 0, 1, 't'}, make([]byte, 997)...), packet.PacketTooLarge},
		{"auth", packet.Version5, []byte{0xF0, 0}, packet.ProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{MaxPacketSize: 512}, nil)
			c := s.dial(t, tc.v)
			c.connect(packet.Connect{ClientID: "c", Clean: true})
			c.write(tc.send)
			d := c.expectClosed()
			switch {
			case tc.code == 0 && d != nil:
				t.Errorf("DISCONNECT %+v to an MQTT 3.1.1 client", d)
			case tc.code != 0 && (d == nil || d.Code != tc.code):
				t.Errorf("DISCONNECT %+v, want code 0x%02X", d, tc.code)
			}
			iottest.WaitFor(t, "counted", func() bool { return s.Stats().ProtocolErrors == 1 })
		})
	}
}

func TestKeepAlive(t *testing.T) {
	s := startServer(t, Options{}, nil)
	c := s.dial(t, packet.Version311)
	c.connect(packet.Connect{ClientID: "quiet", Clean: true, KeepAlive: 1})
	start := time.Now()
	// Packets within the keep-alive keep it up.
	var silent time.Time
	for {
		c.nothingBefore()
		silent = time.Now()
		if silent.Sub(start) > 2*time.Second {
			break
		}
		time.Sleep(200 * time.Millisecond) // the client's own pace, not a wait for the server
	}
	c.expectClosed()
	if d := time.Since(silent); d < 1500*time.Millisecond {
		t.Errorf("closed %v after the last packet; 1.5 times the keep-alive is 1.5 s", d) // [MQTT-3.1.2-24]
	}
	iottest.WaitFor(t, "OnDisconnect", func() bool { return len(s.hooks.disconnects("quiet")) > 0 })
	if errs := s.hooks.disconnects("quiet"); len(errs) != 1 || !errors.Is(errs[0], errKeepAlive) {
		t.Errorf("OnDisconnect errors %v", errs)
	}
}

func TestServerPublish(t *testing.T) {
	h := newTestHooks()
	h.deliver = func(c *Client, topic string) bool { return c.ID() != "blind" }
	s := startServer(t, Options{}, h)
	seen := s.dial(t, packet.Version311)
	seen.connect(packet.Connect{ClientID: "seen", Clean: true})
	seen.subscribe(1, packet.Subscription{Filter: "$aws/events/#"})
	blind := s.dial(t, packet.Version311)
	blind.connect(packet.Connect{ClientID: "blind", Clean: true})
	blind.subscribe(1, packet.Subscription{Filter: "$aws/events/#"})
	if !s.Subscribed("$aws/events/presence/connected/x") {
		t.Fatal("Subscribed false")
	}
	if err := s.Publish("$aws/events/presence/connected/x", []byte("{}"), 0, false); err != nil {
		t.Fatal(err)
	}
	if got := seen.receive(); got.Topic != "$aws/events/presence/connected/x" {
		t.Fatalf("got %+v", got)
	}
	blind.nothingBefore() // MayDeliver said no
	if err := s.Publish("a/+", nil, 0, false); err == nil {
		t.Error("Publish to a filter accepted")
	}
	if err := s.Publish("kept", []byte("k"), 1, true); err != nil {
		t.Fatal(err)
	}
	seen.subscribe(2, packet.Subscription{Filter: "kept", QoS: 1})
	if got := seen.receive(); got.Topic != "kept" || !got.Retain || got.QoS != 1 {
		t.Fatalf("retained server message delivered as %+v", got)
	}
}

func TestFlowControlHoldsPublisher(t *testing.T) {
	s := startServer(t, Options{OutboundQueue: 4, StallTimeout: 200 * time.Millisecond}, nil)
	sub := s.dial(t, packet.Version311)
	sub.connect(packet.Connect{ClientID: "sub", Clean: true})
	sub.subscribe(1, packet.Subscription{Filter: "f"})
	// The subscriber stops reading: its socket buffers fill, its writer
	// blocks, its queue fills, and the publisher is held, then its
	// deliveries are dropped after the stall timeout and counted.
	pub := s.dial(t, packet.Version311)
	pub.connect(packet.Connect{ClientID: "pub", Clean: true})
	payload := make([]byte, 64*1024)
	for i := uint16(1); i <= 200; i++ {
		pub.publish(packet.Publish{Topic: "f", QoS: 1, PacketID: i, Payload: payload})
		pub.expectAck(packet.PUBACK, i)
	}
	if st := s.Stats(); st.Dropped == 0 {
		t.Errorf("nothing dropped for a subscriber that does not read: %+v", st)
	}
}

// A hook that panics ends its connection, not the process: the session
// is tidied up and the server serves the next client.
func TestHookPanicEndsTheConnectionOnly(t *testing.T) {
	h := newTestHooks()
	h.publish = func(c *Client, pk *packet.Publish) (Verdict, byte) {
		if pk.Topic == "boom" {
			panic("hook bug")
		}
		return Route, 0
	}
	h.connect = func(c *Client, pk *packet.Connect) byte {
		if pk.ClientID == "boom" {
			panic("connect hook bug")
		}
		return packet.Success
	}
	s := startServer(t, Options{}, h)
	c := s.dial(t, packet.Version311)
	c.connect(packet.Connect{ClientID: "victim", Clean: true})
	c.publish(packet.Publish{Topic: "boom"})
	c.expectClosed()
	iottest.WaitFor(t, "OnDisconnect", func() bool { return len(s.hooks.disconnects("victim")) == 1 })
	if err := s.hooks.disconnects("victim")[0]; !errors.Is(err, ErrPanic) {
		t.Errorf("OnDisconnect error %v, want ErrPanic", err)
	}
	iottest.WaitFor(t, "the session gone", func() bool { return s.Stats().Sessions == 0 })

	b := s.dial(t, packet.Version311)
	b.write((&packet.Connect{Version: packet.Version311, ClientID: "boom", Clean: true}).Append(nil))
	b.expectClosed()
	s.hooks.mu.Lock()
	refused := append([]error(nil), s.hooks.refused...)
	s.hooks.mu.Unlock()
	if len(refused) != 1 || !errors.Is(refused[0], ErrPanic) {
		t.Errorf("OnConnectRefused errors %v, want one ErrPanic", refused)
	}

	ok := s.dial(t, packet.Version311)
	if ack := ok.connect(packet.Connect{ClientID: "next", Clean: true}); ack.Code != 0 {
		t.Fatalf("CONNACK %+v after the panics", ack)
	}
}

// A session whose filters overlap gets one delivery at the highest QoS,
// however many filters match, alongside many other sessions (where route
// folds overlaps through an index rather than a scan).
func TestOverlappingFiltersOneDelivery(t *testing.T) {
	s := startServer(t, Options{}, nil)
	c := s.dial(t, packet.Version311)
	c.connect(packet.Connect{ClientID: "many", Clean: true})
	filters := []string{"a/b/c", "a/b/+", "a/+/c", "+/b/c", "a/#", "#", "+/+/+", "a/+/+", "+/b/+", "+/+/c", "a/b/#", "+/#", "a/b/c/#"}
	for i, f := range filters {
		qos := byte(0)
		if f == "+/+/c" {
			qos = 1
		}
		c.subscribe(uint16(i+1), packet.Subscription{Filter: f, QoS: qos})
	}
	others := make([]*rawClient, 8)
	for i := range others {
		others[i] = s.dial(t, packet.Version311)
		others[i].connect(packet.Connect{ClientID: fmt.Sprintf("other-%d", i), Clean: true})
		others[i].subscribe(1, packet.Subscription{Filter: "a/b/c"})
	}
	if n := len(filters) + len(others); n <= 16 {
		t.Fatalf("%d matches: the test needs more than route's scan limit", n)
	}
	if err := s.Publish("a/b/c", []byte("x"), 1, false); err != nil {
		t.Fatal(err)
	}
	if got := c.receive(); got.QoS != 1 {
		t.Fatalf("delivered at QoS %d, want the highest, 1", got.QoS)
	}
	c.nothingBefore() // once [MQTT-3.3.4-2]
	for _, o := range others {
		if got := o.receive(); got.Topic != "a/b/c" {
			t.Fatalf("other got %+v", got)
		}
		o.nothingBefore()
	}
}
