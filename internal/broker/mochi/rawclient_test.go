package mochi

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// rawClient speaks MQTT byte by byte with mochi's codec, to see exactly
// what the broker sends (reason codes, or nothing) and to send what real
// clients will not (malformed packets).
type rawClient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
	v byte // protocol version: 4 (3.1.1) or 5
}

// dialRaw opens TLS to the broker as device cn (no certificate if "").
func (e *env) dialRaw(cn string, version byte, alpn ...string) *rawClient {
	e.t.Helper()
	c, err := tls.Dial("tcp", e.b.Addr().String(), e.clientTLS(cn, alpn...))
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: e.t, c: c, r: bufio.NewReader(c), v: version}
}

func (c *rawClient) encode(pk packets.Packet) []byte {
	c.t.Helper()
	pk.ProtocolVersion = c.v
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		pk.Connect.ProtocolName = []byte("MQTT")
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Subscribe:
		pk.FixedHeader.Qos = 1 // [MQTT-3.8.1-1]
		err = pk.SubscribeEncode(&buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	default:
		c.t.Fatalf("rawClient cannot send packet type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		c.t.Fatalf("encode: %v", err)
	}
	return buf.Bytes()
}

func (c *rawClient) send(pk packets.Packet) {
	c.t.Helper()
	c.write(c.encode(pk))
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	_ = c.c.SetWriteDeadline(time.Now().Add(waitTimeout))
	if _, err := c.c.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one packet, waiting up to timeout.
func (c *rawClient) recv(timeout time.Duration) (packets.Packet, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	b, err := c.r.ReadByte()
	if err != nil {
		return packets.Packet{}, err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(b); err != nil {
		return packets.Packet{}, err
	}
	n, _, err := packets.DecodeLength(c.r)
	if err != nil {
		return packets.Packet{}, err
	}
	fh.Remaining = n
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return packets.Packet{}, err
	}
	pk := packets.Packet{FixedHeader: fh, ProtocolVersion: c.v}
	switch fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	}
	return pk, err
}

// expect reads the next packet and checks its type.
func (c *rawClient) expect(typ byte) packets.Packet {
	c.t.Helper()
	pk, err := c.recv(waitTimeout)
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", packets.PacketNames[typ], err)
	}
	if pk.FixedHeader.Type != typ {
		c.t.Fatalf("got %s (reason code %#x), want %s", packets.PacketNames[pk.FixedHeader.Type], pk.ReasonCode, packets.PacketNames[typ])
	}
	return pk
}

// expectClosed checks that the broker closes the connection without
// sending anything more.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	pk, err := c.recv(waitTimeout)
	if err == nil {
		c.t.Fatalf("got %s (reason code %#x), want the connection closed", packets.PacketNames[pk.FixedHeader.Type], pk.ReasonCode)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("connection still open after %v", waitTimeout)
	}
}

// connect sends a CONNECT, after mods adjust it.
func (c *rawClient) connect(id string, clean bool, mods ...func(*packets.Packet)) {
	c.t.Helper()
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Connect},
		Connect:     packets.ConnectParams{ClientIdentifier: id, Clean: clean, Keepalive: 60},
	}
	for _, m := range mods {
		m(&pk)
	}
	c.send(pk)
}

// connackCode connects and returns the CONNACK's reason code.
func (c *rawClient) connackCode(id string, mods ...func(*packets.Packet)) byte {
	c.t.Helper()
	c.connect(id, true, mods...)
	return c.expect(packets.Connack).ReasonCode
}

// mustConnect connects, and fails unless accepted.
func (c *rawClient) mustConnect(id string, mods ...func(*packets.Packet)) packets.Packet {
	c.t.Helper()
	c.connect(id, true, mods...)
	ack := c.expect(packets.Connack)
	if ack.ReasonCode != 0 {
		c.t.Fatalf("CONNACK %#x, want 0", ack.ReasonCode)
	}
	return ack
}

// subscribe subscribes at QoS 1 and returns the SUBACK's reason codes.
func (c *rawClient) subscribe(id uint16, filters ...string) []byte {
	c.t.Helper()
	subs := make(packets.Subscriptions, len(filters))
	for i, f := range filters {
		subs[i] = packets.Subscription{Filter: f, Qos: 1}
	}
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: id, Filters: subs})
	return c.expect(packets.Suback).ReasonCodes
}

func (c *rawClient) publish(topic, payload string, qos byte, retain bool, id uint16) {
	c.t.Helper()
	c.send(packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Retain: retain},
		TopicName:   topic,
		Payload:     []byte(payload),
		PacketID:    id,
	})
}

// nextPublish reads the next packet, which must be a PUBLISH, and
// acknowledges it if it is QoS 1.
func (c *rawClient) nextPublish() packets.Packet {
	c.t.Helper()
	pk := c.expect(packets.Publish)
	if pk.FixedHeader.Qos == 1 {
		c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
	}
	return pk
}

// roundTrip checks the connection is up: PINGREQ, PINGRESP.
func (c *rawClient) roundTrip() {
	c.t.Helper()
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	c.expect(packets.Pingresp)
}

func withWill(topic string, retain bool) func(*packets.Packet) {
	return func(pk *packets.Packet) {
		pk.Connect.WillFlag = true
		pk.Connect.WillTopic = topic
		pk.Connect.WillPayload = []byte("gone")
		pk.Connect.WillRetain = retain
	}
}

// persistent asks for a session that outlives the connection (MQTT 5: for
// an hour; MQTT 3.1.1 ignores the property).
func persistent(pk *packets.Packet) {
	pk.Connect.Clean = false
	pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 3600, true
}
