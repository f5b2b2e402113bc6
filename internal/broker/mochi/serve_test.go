package mochi

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// issue501Subscribe is an MQTT 5 SUBSCRIBE whose only filter, "a", is not
// followed by its subscription options byte: mochi v2.7.9's
// SubscribeDecode reads that byte without a bounds check and panics
// (upstream issue 501; TestMochiDefects shows it on a vanilla server).
var issue501Subscribe = []byte{
	0x82, 0x06, // SUBSCRIBE, remaining length 6
	0x00, 0x01, // packet identifier 1
	0x00,            // properties: none
	0x00, 0x01, 'a', // topic filter "a", and no options byte
}

func TestMalformedSubscribeRecovered(t *testing.T) {
	e := newEnv(t)
	w := e.watcher("w", "chat/#")

	e.gate.allowAll("evil")
	evil := e.dialRaw("device", 5)
	evil.mustConnect("evil", withWill("chat/evil", false))
	if codes := evil.subscribe(1, "chat/#"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	evil.write(issue501Subscribe)
	if testEngine() == EngineIotcore {
		// Told why, as MQTT 5 asks [MQTT-4.13.1-1]; mochi's panic cannot.
		if d := evil.expect(packets.Disconnect); d.ReasonCode != packets.ErrMalformedPacket.Code {
			t.Errorf("DISCONNECT %#x, want 0x81", d.ReasonCode)
		}
	}
	evil.expectClosed()

	if testEngine() == EngineIotcore {
		// Its decoder refuses the packet: a protocol error, not a panic.
		waitFor(t, "the refusal counted", func() bool { return e.b.Stats().ProtocolErrors == 1 })
	} else {
		waitFor(t, "the panic counted", func() bool { return e.b.Stats().Panics == 1 })
	}
	waitFor(t, "the session closed", func() bool { return e.gate.session("evil", 0).wasClosed() })
	// Handled as a broken connection: its will is published, its clean
	// session ended (its subscription gone: only the watcher's is left).
	w.expectOnly("chat/evil", "gone")
	if n := e.b.Stats().Subscriptions; n != 1 {
		t.Errorf("Stats().Subscriptions = %d, want 1", n)
	}

	// Everyone else carries on, and new devices connect.
	e.server(t, "chat/x", "still here")
	w.expectOnly("chat/x", "still here")
	e.gate.allowAll("next")
	next := e.dialRaw("device", 5)
	next.mustConnect("next")
	next.publish("chat/next", "hi", 1, false, 1)
	next.expect(packets.Puback)
	w.expectOnly("chat/next", "hi")
}

// Serve returns once its context ends whatever the connections are doing:
// admitted and idle, in the TLS handshake, before CONNECT, inside the gate,
// or not reading what the broker writes. Timeouts are an hour, so only
// shutdown can end them (waitTimeout bounds the wait in env.stop).
func TestServeReturnsWithStuckConnections(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.HandshakeTimeout, c.ConnectTimeout = time.Hour, time.Hour
		c.OutboundQueue = 4
		c.PublishRate = -1 // every message reaches the outbound queue
	})
	e.gate.allowAll("*")

	v5 := e.dialRaw("device", 5)
	v5.mustConnect("v5")
	v4 := e.dialRaw("device", 4)
	v4.mustConnect("v4")

	tcpOnly, err := net.Dial("tcp", e.b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcpOnly.Close()
	noConnect := e.dialRaw("device", 4)

	release := e.gate.holdConnect("held")
	defer release()
	held := e.dialRaw("device", 5)
	held.connect("held", true)
	waitFor(t, "the gate holding a connection", func() bool { return e.gate.kick("held") != nil })

	// A device that stops reading: 32 MiB for it is more than the loopback
	// socket buffers hold, so the broker's write to it blocks, its outbound
	// queue fills, and messages to it are dropped.
	deaf := e.dialRaw("device", 5)
	deaf.mustConnect("deaf")
	if codes := deaf.subscribe(1, "flood"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	payload := bytes.Repeat([]byte("x"), 64*1024)
	for range 512 {
		if err := e.b.Publish("flood", payload, false, 0); err != nil {
			t.Fatal(err)
		}
	}
	if e.b.Stats().Dropped == 0 {
		t.Fatal("no message dropped")
	}

	e.stop()

	if d := v5.expect(packets.Disconnect); d.ReasonCode != packets.ErrServerShuttingDown.Code {
		t.Errorf("DISCONNECT %#x, want 0x8B", d.ReasonCode)
	}
	v5.expectClosed()
	v4.expectClosed()
	noConnect.expectClosed()
	expectEOF(t, tcpOnly)
	if ack, err := held.recv(waitTimeout); err == nil && (ack.FixedHeader.Type != packets.Connack || ack.ReasonCode < 0x80) {
		t.Errorf("held connection got %s %#x", packets.PacketNames[ack.FixedHeader.Type], ack.ReasonCode)
	}
	if s := e.gate.session("v5", 0); !s.wasClosed() {
		t.Error("session v5 not closed")
	}
}

func TestClose(t *testing.T) {
	e := newEnv(t)
	c := e.dialRaw("device", 4)
	c.mustConnect("thing") // Serve is serving
	// While serving: as cancelling Serve's context.
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	e.stop()
	if err := e.b.Close(); err != nil { // after: nothing
		t.Fatal(err)
	}

	b, err := Open(Config{Addr: "127.0.0.1:0", WebSocketAddr: "127.0.0.1:0", Certificate: e.b.cfg.Certificate, Gate: e.gate})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // never served: the listeners are released
		t.Fatal(err)
	}
	for _, addr := range []net.Addr{b.Addr(), b.WebSocketAddr()} {
		if c, err := net.Dial("tcp", addr.String()); err == nil {
			_ = c.Close()
			t.Errorf("%s still accepts connections", addr)
		}
	}
	if err := b.Serve(t.Context()); err == nil {
		t.Error("Serve after Close: no error")
	}
}
