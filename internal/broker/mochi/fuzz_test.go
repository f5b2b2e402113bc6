package mochi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// What FuzzListener sends its bytes after: the fuzz input's first argument,
// modulo 3.
const (
	afterHandshake  = 0 // right after the TLS handshake
	afterConnect311 = 1 // after a valid MQTT 3.1.1 CONNECT and its CONNACK
	afterConnect5   = 2 // after a valid MQTT 5 CONNECT and its CONNACK
)

// fuzzIOTimeout bounds each connection of FuzzListener; only a broker that
// hangs makes it wait that long. Two of them stay well below the 10 seconds
// after which the fuzzing engine gives up on an input without saying why.
const fuzzIOTimeout = 3 * time.Second

// FuzzListener writes raw bytes into the real MQTT over TLS listener, after
// a valid TLS handshake and possibly a valid CONNECT, then closes its side.
// The broker must not crash, must end the connection (no hang), must keep
// its promises to the gate (a session is closed once, and never asked
// anything after), and must go on serving a well-behaved device: connect,
// subscribe, publish and receive.
//
// The broker recovers a panic of the MQTT engine and ends only its
// connection; the one it is known for (upstream issue 501, in mochi's
// SUBSCRIBE decoder) is allowed, any other fails.
func FuzzListener(f *testing.F) {
	fb := startFuzzBroker(f)
	for _, s := range listenerSeeds(f) {
		f.Add(s.after, s.data)
	}
	f.Fuzz(func(t *testing.T, after byte, data []byte) {
		// What one input did, so that a failure is not blamed on the next.
		fb.panics.unknown.Store(nil)
		fb.gate.violation.Store(nil)
		fb.send(t, after%3, data)
		fb.probe(t)
		if v := fb.gate.violation.Load(); v != nil {
			t.Fatalf("the broker broke its contract with the gate: %s", *v)
		}
		if stack := fb.panics.unknown.Load(); stack != nil {
			t.Fatalf("the MQTT engine panicked (recovered), not as upstream issue 501:\n%s", *stack)
		}
		// A panic may come after the device saw its connection end (on bytes
		// mochi had buffered): give its log line a moment.
		for deadline := time.Now().Add(fuzzIOTimeout); fb.b.Stats().Panics != fb.panics.logged.Load(); {
			if time.Now().After(deadline) {
				t.Fatalf("%d recovered panics counted, %d logged with their stack: panicWatch no longer sees them",
					fb.b.Stats().Panics, fb.panics.logged.Load())
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// fuzzBroker is a broker on loopback with a fake gate, shared by the inputs
// of one fuzzing process.
type fuzzBroker struct {
	b      *mochi.Broker
	gate   *fuzzGate
	device tls.Config   // a device's TLS configuration
	conns  atomic.Int64 // numbers the harness's client ids
	panics *panicWatch  // the broker's log
}

// clientID is a fresh client id for the harness's own CONNECTs: a client id
// may connect only so often (Config.ConnectRate).
func (fb *fuzzBroker) clientID(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, fb.conns.Add(1))
}

func startFuzzBroker(f *testing.F) *fuzzBroker {
	root := pkitest.NewRoot(f, "iotcore fuzz root")
	key := pkitest.NewKey(f, pki.DefaultKeyType)
	now := time.Now()
	serverCert, err := root.IssueServer(key.Public(), []string{"localhost"}, now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	devCert, devKey := pkitest.NewClient(f, root, pkix.Name{CommonName: "fuzz-device"})
	pool := x509.NewCertPool()
	pool.AddCert(root.Certificate)

	fb := &fuzzBroker{
		gate: &fuzzGate{},
		device: tls.Config{
			RootCAs:      pool,
			ServerName:   "localhost",
			Certificates: []tls.Certificate{{Certificate: [][]byte{devCert.Raw}, PrivateKey: devKey, Leaf: devCert}},
			// Resumed sessions skip most of the handshake's cryptography.
			ClientSessionCache: tls.NewLRUClientSessionCache(4),
		},
	}
	fb.panics = &panicWatch{next: slog.DiscardHandler}
	if os.Getenv("IOTCORE_TEST_DEBUG") == "1" {
		fb.panics.next = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	fb.b, err = mochi.Open(mochi.Config{
		Addr:        "127.0.0.1:0",
		Certificate: tls.Certificate{Certificate: [][]byte{serverCert.Raw}, PrivateKey: key, Leaf: serverCert},
		Gate:        fb.gate,
		Logger:      slog.New(fb.panics),
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- fb.b.Serve(ctx) }()
	f.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				f.Errorf("Serve: %v", err)
			}
		case <-time.After(fuzzIOTimeout):
			f.Errorf("Serve did not return %v after its context ended", fuzzIOTimeout)
		}
	})
	return fb
}

// dial opens a device connection.
func (fb *fuzzBroker) dial(t *testing.T) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", fb.b.Addr().String(), &fb.device)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = c.SetDeadline(time.Now().Add(fuzzIOTimeout))
	return c
}

// send writes data into a new connection, after what says after, closes the
// connection's sending side (TLS close_notify) and reads until the broker
// closes it.
func (fb *fuzzBroker) send(t *testing.T, after byte, data []byte) {
	t.Helper()
	c := fb.dial(t)
	defer c.Close()
	r := bufio.NewReader(c)
	if after != afterHandshake {
		version := byte(4)
		if after == afterConnect5 {
			version = 5
		}
		write(t, c, encode(t, version, connectPacket(fb.clientID("fuzz"), version)))
		pk, err := readPacket(r, version)
		if err != nil || pk.FixedHeader.Type != packets.Connack || pk.ReasonCode != 0 {
			t.Fatalf("valid CONNECT: got %v (reason code %#x), %v; want CONNACK 0", packets.PacketNames[pk.FixedHeader.Type], pk.ReasonCode, err)
		}
	}
	// Write and read at once: the broker may answer before it has read all.
	written := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.CloseWrite()
		}
		written <- err
	}()
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Logf("goroutines:\n%s", goroutines())
		t.Fatalf("the broker neither ended the connection nor stopped sending within %v", fuzzIOTimeout)
	}
	_ = c.Close()
	<-written // an error means the broker closed the connection first
}

// probe checks that the broker serves a well-behaved device: CONNECT,
// SUBSCRIBE, PUBLISH at QoS 1 to itself, receive it, DISCONNECT.
func (fb *fuzzBroker) probe(t *testing.T) {
	t.Helper()
	const version = 4
	c := fb.dial(t)
	defer c.Close()
	r := bufio.NewReader(c)
	expect := func(typ byte) packets.Packet {
		t.Helper()
		pk, err := readPacket(r, version)
		if err != nil {
			t.Logf("goroutines:\n%s", goroutines())
			t.Fatalf("probe: waiting for %s: %v", packets.PacketNames[typ], err)
		}
		if pk.FixedHeader.Type != typ {
			t.Fatalf("probe: got %s, want %s", packets.PacketNames[pk.FixedHeader.Type], packets.PacketNames[typ])
		}
		return pk
	}
	id := fb.clientID("probe")
	write(t, c, encode(t, version, connectPacket(id, version)))
	if ack := expect(packets.Connack); ack.ReasonCode != 0 {
		t.Fatalf("probe: CONNACK %#x", ack.ReasonCode)
	}
	topic := "probe/" + id
	write(t, c, encode(t, version, packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1},
		PacketID:    1,
		Filters:     packets.Subscriptions{{Filter: topic, Qos: 1}},
	}))
	if ack := expect(packets.Suback); !bytes.Equal(ack.ReasonCodes, []byte{1}) {
		t.Fatalf("probe: SUBACK %v", ack.ReasonCodes)
	}
	write(t, c, encode(t, version, packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
		PacketID:    2,
		TopicName:   topic,
		Payload:     []byte("still serving"),
	}))
	// The PUBACK and the delivery come in either order.
	var gotAck, gotMsg bool
	for !gotAck || !gotMsg {
		pk, err := readPacket(r, version)
		if err != nil {
			t.Logf("goroutines:\n%s", goroutines())
			t.Fatalf("probe: waiting for its message (PUBACK received: %v, message received: %v): %v", gotAck, gotMsg, err)
		}
		switch {
		case pk.FixedHeader.Type == packets.Puback && pk.PacketID == 2:
			gotAck = true
		case pk.FixedHeader.Type == packets.Publish && pk.TopicName == topic && string(pk.Payload) == "still serving":
			gotMsg = true
			write(t, c, encode(t, version, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID}))
		default:
			t.Fatalf("probe: got %s", packets.PacketNames[pk.FixedHeader.Type])
		}
	}
	write(t, c, encode(t, version, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}}))
}

// goroutines returns the stacks of every goroutine, for a hang.
func goroutines() []byte {
	buf := make([]byte, 1<<20)
	return buf[:runtime.Stack(buf, true)]
}

func connectPacket(clientID string, version byte) packets.Packet {
	return packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Connect},
		Connect: packets.ConnectParams{
			ProtocolName:     []byte("MQTT"),
			ClientIdentifier: clientID,
			Clean:            true,
			Keepalive:        60,
		},
	}
}

// encode encodes pk with mochi's codec.
func encode(t testing.TB, version byte, pk packets.Packet) []byte {
	t.Helper()
	pk.ProtocolVersion = version
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Pubrec:
		err = pk.PubrecEncode(&buf)
	case packets.Pubrel:
		err = pk.PubrelEncode(&buf)
	case packets.Pubcomp:
		err = pk.PubcompEncode(&buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&buf)
	case packets.Unsubscribe:
		err = pk.UnsubscribeEncode(&buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	case packets.Auth:
		err = pk.AuthEncode(&buf)
	default:
		t.Fatalf("cannot encode packet type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", packets.PacketNames[pk.FixedHeader.Type], err)
	}
	return buf.Bytes()
}

func write(t *testing.T, c *tls.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readPacket reads one packet; CONNACK, SUBACK, PUBLISH, PUBACK and
// DISCONNECT are decoded.
func readPacket(r *bufio.Reader, version byte) (packets.Packet, error) {
	b, err := r.ReadByte()
	if err != nil {
		return packets.Packet{}, err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(b); err != nil {
		return packets.Packet{}, err
	}
	n, _, err := packets.DecodeLength(r)
	if err != nil {
		return packets.Packet{}, err
	}
	fh.Remaining = n
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return packets.Packet{}, err
	}
	pk := packets.Packet{FixedHeader: fh, ProtocolVersion: version}
	switch fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	}
	return pk, err
}

// fuzzGate admits every device with a certificate, except client ids
// starting "deny" (CONNACK not authorized) and "drop" (dropped), and allows
// every action except on topics containing "deny". It records the broker's
// breaches of the Gate contract: a session closed twice, or asked to
// authorize after it was closed.
type fuzzGate struct {
	violation atomic.Pointer[string] // the first breach
}

func (g *fuzzGate) violated(format string, args ...any) {
	v := fmt.Sprintf(format, args...)
	g.violation.CompareAndSwap(nil, &v)
}

func (g *fuzzGate) Connect(_ context.Context, req broker.ConnectRequest, _ func(string)) (broker.Session, error) {
	switch {
	case len(req.Chain) == 0:
		return nil, &broker.RefusedError{How: broker.Drop, Reason: "no certificate"}
	case strings.HasPrefix(req.ClientID, "deny"):
		return nil, &broker.RefusedError{How: broker.NotAuthorized, Reason: "client id"}
	case strings.HasPrefix(req.ClientID, "drop"):
		return nil, &broker.RefusedError{How: broker.Drop, Reason: "client id"}
	}
	return &fuzzSession{g: g, id: req.ClientID}, nil
}

type fuzzSession struct {
	g      *fuzzGate
	id     string
	closed atomic.Bool
}

func (s *fuzzSession) Authorize(action broker.Action, topic string) bool {
	if s.closed.Load() {
		s.g.violated("session %q: Authorize(%v, %q) after Close", s.id, action, topic)
	}
	return !strings.Contains(topic, "deny")
}

func (s *fuzzSession) CertificateID() string { return "cert-" + s.id }

func (s *fuzzSession) Close(broker.DisconnectInfo) {
	if !s.closed.CompareAndSwap(false, true) {
		s.g.violated("session %q closed twice", s.id)
	}
}

// panicWatch is the broker's log handler: it sorts the recovered panics the
// broker logs (an error with a "stack") into the known one, upstream issue
// 501 in mochi's SUBSCRIBE decoder, and others, and passes every record on.
type panicWatch struct {
	next    slog.Handler
	logged  atomic.Int64           // panics logged
	unknown atomic.Pointer[string] // the stack of one that is not issue 501
}

func (h *panicWatch) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelError || h.next.Enabled(ctx, level)
}

func (h *panicWatch) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "stack" {
			return true
		}
		if stack := a.Value.String(); !strings.Contains(stack, "packets.(*Packet).SubscribeDecode") {
			h.unknown.CompareAndSwap(nil, &stack)
		}
		h.logged.Add(1)
		return false
	})
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs and WithGroup keep the record's own attributes, where the stack
// is, visible to Handle.
func (h *panicWatch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *panicWatch) WithGroup(string) slog.Handler      { return h }

// listenerSeed is one seed input of FuzzListener.
type listenerSeed struct {
	name  string
	after byte
	data  []byte
}

// listenerSeeds are well-formed and malformed packet sequences of both
// protocol versions, each after the TLS handshake alone or after a CONNECT.
func listenerSeeds(f *testing.F) []listenerSeed {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	v4 := func(pk packets.Packet) []byte { return encode(f, 4, pk) }
	v5 := func(pk packets.Packet) []byte { return encode(f, 5, pk) }
	connect := func(version byte, mods ...func(*packets.Packet)) []byte {
		pk := connectPacket("seed", version)
		for _, m := range mods {
			m(&pk)
		}
		return encode(f, version, pk)
	}
	will := func(pk *packets.Packet) {
		pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload, pk.Connect.WillQos = true, "will/seed", []byte("gone"), 1
	}
	persistent := func(pk *packets.Packet) {
		pk.Connect.Clean = false
		pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 60, true
	}
	subscribe := func(filters ...string) packets.Packet {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 7}
		for _, fl := range filters {
			pk.Filters = append(pk.Filters, packets.Subscription{Filter: fl, Qos: 1})
		}
		return pk
	}
	publish := func(topic string, qos byte, retain bool) packets.Packet {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Retain: retain}, TopicName: topic, Payload: []byte("hello")}
		if qos > 0 {
			pk.PacketID = 9
		}
		return pk
	}
	aliased := publish("alias/topic", 1, false)
	aliased.Properties.TopicAlias, aliased.Properties.TopicAliasFlag = 1, true
	aliasOnly := publish("", 1, false)
	aliasOnly.Properties.TopicAlias, aliasOnly.Properties.TopicAliasFlag = 1, true
	pingreq := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}}
	disconnect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}}
	unsubscribe := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, PacketID: 8, Filters: packets.Subscriptions{{Filter: "a/#"}}}
	auth := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Auth}, ReasonCode: 0x18}
	pubrel := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel, Qos: 1}, PacketID: 9}

	return []listenerSeed{
		{"nothing", afterHandshake, nil},
		{"CONNECT 3.1.1", afterHandshake, connect(4)},
		{"CONNECT 5", afterHandshake, connect(5)},
		{"CONNECT 3.1", afterHandshake, connect(3)},
		{"CONNECT with will", afterHandshake, connect(4, will)},
		{"CONNECT 5 persistent with will", afterHandshake, connect(5, will, persistent)},
		{"CONNECT refused", afterHandshake, connect(4, func(pk *packets.Packet) { pk.Connect.ClientIdentifier = "deny-me" })},
		{"CONNECT dropped", afterHandshake, connect(5, func(pk *packets.Packet) { pk.Connect.ClientIdentifier = "drop-me" })},
		{"CONNECT empty client id", afterHandshake, connect(4, func(pk *packets.Packet) { pk.Connect.ClientIdentifier = "" })},
		{"CONNECT with a probe's client id", afterHandshake, connect(4, func(pk *packets.Packet) { pk.Connect.ClientIdentifier = "probe-2" })},
		{"two CONNECTs", afterHandshake, cat(connect(4), connect(4))},
		{"PUBLISH before CONNECT", afterHandshake, v4(publish("a/b", 0, false))},
		{"CONNECT truncated", afterHandshake, connect(4)[:7]},
		{"CONNECT then session 3.1.1", afterHandshake, cat(connect(4), v4(subscribe("a/#", "a/+/c")), v4(publish("a/b", 1, false)), v4(pingreq), v4(unsubscribe), v4(disconnect))},
		{"CONNECT then session 5", afterHandshake, cat(connect(5), v5(subscribe("a/#")), v5(aliased), v5(aliasOnly), v5(publish("a/b", 1, true)), v5(disconnect))},
		{"remaining length of 5 bytes", afterHandshake, []byte{0x10, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"remaining length of 256 MiB", afterConnect311, []byte{0x30, 0xff, 0xff, 0xff, 0x7f}},
		{"reserved packet type 0", afterConnect311, []byte{0x00, 0x00}},
		{"reserved packet type 15 in 3.1.1", afterConnect311, []byte{0xf0, 0x00}},
		{"PUBLISH", afterConnect311, v4(publish("a/b", 0, false))},
		{"PUBLISH QoS 1 retained", afterConnect311, v4(publish("a/b", 1, true))},
		{"PUBLISH QoS 2", afterConnect311, v4(publish("a/b", 2, false))},
		{"PUBLISH QoS 3", afterConnect311, []byte{0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}},
		{"PUBLISH denied", afterConnect311, v4(publish("deny/me", 1, false))},
		{"PUBLISH with a wildcard", afterConnect311, v4(publish("a/+", 0, false))},
		{"PUBLISH to $aws", afterConnect5, v5(publish("$aws/things/x/shadow/update", 1, false))},
		{"PUBLISH with an empty topic", afterConnect311, []byte{0x30, 0x02, 0x00, 0x00}},
		{"PUBLISH with invalid UTF-8", afterConnect311, []byte{0x30, 0x04, 0x00, 0x02, 0xc3, 0x28}},
		{"PUBLISH with a NUL", afterConnect311, []byte{0x30, 0x04, 0x00, 0x02, 'a', 0x00}},
		{"PUBREL of nothing", afterConnect311, v4(pubrel)},
		{"SUBSCRIBE", afterConnect311, v4(subscribe("a/#", "$aws/events/#", "#", "+/+"))},
		{"SUBSCRIBE denied", afterConnect5, v5(subscribe("deny/#"))},
		{"SUBSCRIBE with no filter", afterConnect311, []byte{0x82, 0x02, 0x00, 0x01}},
		{"SUBSCRIBE with bad flags", afterConnect311, []byte{0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}},
		{"SUBSCRIBE with a bad filter", afterConnect5, v5(subscribe("a/#/b", "a+", ""))},
		{"SUBSCRIBE 5 without options (issue 501)", afterConnect5, []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'}},
		{"SUBSCRIBE then PUBLISH to it", afterConnect5, cat(v5(subscribe("s/#")), v5(publish("s/1", 1, false)), v5(publish("s/2", 0, true)))},
		{"UNSUBSCRIBE", afterConnect5, v5(unsubscribe)},
		{"topic alias only, never set", afterConnect5, v5(aliasOnly)},
		{"topic alias set then used", afterConnect5, cat(v5(aliased), v5(aliasOnly))},
		{"AUTH", afterConnect5, v5(auth)},
		{"second CONNECT", afterConnect5, connect(5)},
		{"PINGREQ", afterConnect311, v4(pingreq)},
		{"DISCONNECT", afterConnect311, v4(disconnect)},
		{"DISCONNECT 5 with will", afterConnect5, []byte{0xe0, 0x01, 0x04}},
		{"garbage", afterConnect5, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
	}
}
