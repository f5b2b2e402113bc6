package mqttserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// waitTimeout bounds every wait in these tests: they wait for conditions,
// and this only decides when a test that will never see one gives up.
const waitTimeout = 10 * time.Second

// testHooks allow everything unless a field says otherwise, and record
// what the engine tells them.
type testHooks struct {
	connect   func(c *Client, pk *packet.Connect) byte
	publish   func(c *Client, pk *packet.Publish) (Verdict, byte)
	subscribe func(c *Client, sub *packet.Subscription) byte // per valid filter
	deliver   func(c *Client, topic string) bool
	will      func(c *Client, pk *packet.Publish) bool

	mu           sync.Mutex
	connected    []string
	refused      []error
	disconnected map[string][]error
	published    []string
	dropped      []DropReason
	changed      chan struct{} // a value is sent on every record, if anyone listens
}

func newTestHooks() *testHooks {
	return &testHooks{disconnected: map[string][]error{}, changed: make(chan struct{}, 1)}
}

func (h *testHooks) note() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *testHooks) OnConnect(c *Client, pk *packet.Connect) byte {
	if h.connect != nil {
		return h.connect(c, pk)
	}
	return packet.Success
}

func (h *testHooks) OnConnectRefused(c *Client, pk *packet.Connect, why error) {
	h.mu.Lock()
	h.refused = append(h.refused, why)
	h.mu.Unlock()
	h.note()
}

func (h *testHooks) OnConnected(c *Client, present bool) {
	h.mu.Lock()
	h.connected = append(h.connected, c.ID())
	h.mu.Unlock()
	h.note()
}

func (h *testHooks) OnDisconnect(c *Client, err error) {
	h.mu.Lock()
	h.disconnected[c.ID()] = append(h.disconnected[c.ID()], err)
	h.mu.Unlock()
	h.note()
}

func (h *testHooks) OnPublish(c *Client, pk *packet.Publish) (Verdict, byte) {
	if h.publish != nil {
		return h.publish(c, pk)
	}
	return Route, 0
}

func (h *testHooks) OnPublished(c *Client, pk *packet.Publish) {
	h.mu.Lock()
	h.published = append(h.published, pk.Topic)
	h.mu.Unlock()
	h.note()
}

func (h *testHooks) OnWill(c *Client, pk *packet.Publish) bool {
	if h.will != nil {
		return h.will(c, pk)
	}
	return true
}

func (h *testHooks) OnSubscribe(c *Client, pk *packet.Subscribe, codes []byte) {
	for i := range pk.Subscriptions {
		if h.subscribe != nil && codes[i] < packet.UnspecifiedError {
			codes[i] = h.subscribe(c, &pk.Subscriptions[i])
		}
	}
}

func (h *testHooks) MayDeliver(c *Client, topic string) bool {
	if h.deliver != nil {
		return h.deliver(c, topic)
	}
	return true
}

func (h *testHooks) OnDropped(c *Client, topic string, why DropReason) {
	h.mu.Lock()
	h.dropped = append(h.dropped, why)
	h.mu.Unlock()
	h.note()
}

// disconnects returns the errors OnDisconnect was given for id.
func (h *testHooks) disconnects(id string) []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.disconnected[id]...)
}

// testServer is a Server on loopback: over TLS on a RecordConn (as the
// adapter serves MQTT over TLS: reading by records), or over plain TCP
// (reading packet by packet, as over WebSocket).
type testServer struct {
	*Server
	hooks *testHooks
	addr  string
	plain bool
}

// plainTCP, set by a test before startServer, serves plain TCP.
var plainTCP = false

// testTLS are the server's and the clients' TLS configurations.
var testTLS = sync.OnceValues(func() (*tls.Config, *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	server := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{InsecureSkipVerify: true}
})

func startServer(t *testing.T, opts Options, hooks *testHooks) *testServer {
	t.Helper()
	plain := plainTCP
	serverTLS, _ := testTLS()
	if hooks == nil {
		hooks = newTestHooks()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(opts, hooks)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if plain {
					s.ServeConn(nc, nil)
					return
				}
				tc := tls.Server(NewRecordConn(nc), serverTLS)
				if err := tc.Handshake(); err != nil {
					_ = nc.Close()
					return
				}
				s.ServeConn(tc, nil)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		_ = s.Close()
		wg.Wait()
	})
	return &testServer{Server: s, hooks: hooks, addr: ln.Addr().String(), plain: plain}
}

// rawClient speaks MQTT through the packet package, packet by packet, to
// check what the server sends exactly.
type rawClient struct {
	t       *testing.T
	nc      net.Conn
	version byte
	buf     []byte
}

func (s *testServer) dial(t *testing.T, version byte) *rawClient {
	t.Helper()
	var nc net.Conn
	var err error
	if s.plain {
		nc, err = net.Dial("tcp", s.addr)
	} else {
		_, clientTLS := testTLS()
		nc, err = tls.Dial("tcp", s.addr, clientTLS)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &rawClient{t: t, nc: nc, version: version}
}

func (r *rawClient) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// read returns the next packet, or an error (io.EOF when the server has
// closed the connection).
func (r *rawClient) read() (packet.Header, []byte, error) {
	_ = r.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	var hdr [packet.MaxHeaderSize]byte
	for n := 1; n <= len(hdr); n++ {
		if _, err := io.ReadFull(r.nc, hdr[n-1:n]); err != nil {
			return packet.Header{}, nil, err
		}
		h, m, err := packet.ParseHeader(hdr[:n], 0)
		if err != nil {
			return h, nil, err
		}
		if m > 0 {
			body := make([]byte, h.Length)
			_, err := io.ReadFull(r.nc, body)
			return h, body, err
		}
	}
	return packet.Header{}, nil, errors.New("header too long")
}

// expect reads the next packet and fails unless it is of type t.
func (r *rawClient) expect(t packet.Type) (packet.Header, []byte) {
	r.t.Helper()
	h, body, err := r.read()
	if err != nil {
		r.t.Fatalf("reading %s: %v", t, err)
	}
	if h.Type != t {
		r.t.Fatalf("got %s (% x), want %s", h.Type, body, t)
	}
	return h, body
}

// expectClosed reads until the server closes the connection, and returns
// the MQTT 5 DISCONNECT it sent first, if any.
func (r *rawClient) expectClosed() *packet.Disconnect {
	r.t.Helper()
	var d *packet.Disconnect
	for {
		h, body, err := r.read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				r.t.Fatal("connection not closed")
			}
			return d
		}
		if h.Type == packet.DISCONNECT {
			d, err = packet.DecodeDisconnect(body, r.version)
			if err != nil {
				r.t.Fatal(err)
			}
		}
	}
}

func (r *rawClient) connect(pk packet.Connect) *packet.Connack {
	r.t.Helper()
	pk.Version = r.version
	r.write(pk.Append(nil))
	_, body := r.expect(packet.CONNACK)
	ack, err := packet.DecodeConnack(body, r.version)
	if err != nil {
		r.t.Fatal(err)
	}
	return ack
}

func (r *rawClient) subscribe(id uint16, subs ...packet.Subscription) []byte {
	r.t.Helper()
	r.write((&packet.Subscribe{PacketID: id, Subscriptions: subs}).Append(nil, r.version))
	_, body := r.expect(packet.SUBACK)
	ack, err := packet.DecodeSuback(body, r.version)
	if err != nil {
		r.t.Fatal(err)
	}
	if ack.PacketID != id {
		r.t.Fatalf("SUBACK for %d, want %d", ack.PacketID, id)
	}
	return ack.Codes
}

func (r *rawClient) publish(pk packet.Publish) {
	r.t.Helper()
	r.write(pk.Append(nil, r.version))
}

// receive reads the next PUBLISH.
func (r *rawClient) receive() *packet.Publish {
	r.t.Helper()
	h, body := r.expect(packet.PUBLISH)
	pk, err := packet.DecodePublish(h.Flags, body, r.version)
	if err != nil {
		r.t.Fatal(err)
	}
	return pk
}

func (r *rawClient) puback(id uint16) {
	r.t.Helper()
	r.write((&packet.Ack{Type: packet.PUBACK, PacketID: id}).Append(nil, r.version))
}

func (r *rawClient) expectAck(t packet.Type, id uint16) *packet.Ack {
	r.t.Helper()
	_, body := r.expect(t)
	a, err := packet.DecodeAck(t, body, r.version)
	if err != nil {
		r.t.Fatal(err)
	}
	if a.PacketID != id {
		r.t.Fatalf("%s for %d, want %d", t, a.PacketID, id)
	}
	return a
}

func (r *rawClient) disconnect() {
	r.t.Helper()
	r.write((&packet.Disconnect{}).Append(nil, r.version))
	_ = r.nc.Close()
}

// nothingWithin checks that no packet arrives until the server answers a
// PINGREQ: a probe with no sleeps, since the server handles a connection's
// packets in order and queues what it sends in order.
func (r *rawClient) nothingBefore() {
	r.t.Helper()
	r.write(packet.AppendPingreq(nil))
	h, body, err := r.read()
	if err != nil {
		r.t.Fatal(err)
	}
	if h.Type != packet.PINGRESP {
		r.t.Fatalf("got %s (% x) before the PINGRESP", h.Type, body)
	}
}

func versions(t *testing.T, f func(t *testing.T, v byte)) {
	for _, v := range []byte{packet.Version311, packet.Version5} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) { f(t, v) })
	}
}
