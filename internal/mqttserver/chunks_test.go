package mqttserver

import (
	"bytes"
	"net"
	"testing"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// The same behaviour read packet by packet (plain TCP, as a WebSocket is
// read) as by records (TLS over a RecordConn).
func TestPacketByPacket(t *testing.T) {
	plainTCP = true
	defer func() { plainTCP = false }()
	t.Run("PublishSubscribe", TestPublishSubscribe)
	t.Run("PersistentSession", TestPersistentSession)
	t.Run("ProtocolErrors", TestProtocolErrors)
	t.Run("Will", TestWill)
}

// Several packets in one TLS record, and one packet over several, are
// read as the packets they are.
func TestPacketsAcrossRecords(t *testing.T) {
	s := startServer(t, Options{}, nil)
	sub := s.dial(t, packet.Version5)
	sub.connect(packet.Connect{ClientID: "sub", Clean: true})
	if c, ok := s.Client("sub"); !ok || c.c.chunks.raw == nil {
		t.Fatal("a TLS connection over a RecordConn is not read by records")
	}
	// Two packets, one write: one record.
	two := (&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "x", QoS: 1}}}).Append(nil, packet.Version5)
	two = packet.AppendPingreq(two)
	sub.write(two)
	sub.expect(packet.SUBACK)
	sub.expect(packet.PINGRESP)
	// Two records at once: both arrive before the first is read, and the
	// second must not be left inside crypto/tls while the engine waits for
	// the socket.
	both := append(packet.AppendPingreq(nil), packet.AppendPingreq(nil)...)
	sub.write(both[:2])
	sub.write(both[2:])
	sub.expect(packet.PINGRESP)
	sub.expect(packet.PINGRESP)

	// One PUBLISH, four records: split in its fixed header and its body.
	pub := s.dial(t, packet.Version5)
	pub.connect(packet.Connect{ClientID: "pub", Clean: true})
	pk := (&packet.Publish{Topic: "x", QoS: 1, PacketID: 9, Payload: bytes.Repeat([]byte("p"), 300)}).Append(nil, packet.Version5)
	for _, part := range [][]byte{pk[:1], pk[1:2], pk[2:40], pk[40:]} {
		pub.write(part)
	}
	pub.expectAck(packet.PUBACK, 9)
	if got := sub.receive(); len(got.Payload) != 300 {
		t.Fatalf("delivered %d bytes, want 300", len(got.Payload))
	}
}

// fakeConn reads from a buffer.
type fakeConn struct {
	net.Conn
	r *bytes.Reader
}

func (f fakeConn) Read(b []byte) (int, error) { return f.r.Read(b) }

func TestRecordConnStopsAtRecords(t *testing.T) {
	record := func(body string) []byte { return append([]byte{23, 3, 3, 0, byte(len(body))}, body...) }
	stream := append(append(record("first"), record("")...), record("second")...)
	rc := NewRecordConn(fakeConn{r: bytes.NewReader(stream)})
	var reads []string
	buf := make([]byte, 64)
	if n, err := rc.Read(buf); n != 5 || err != nil {
		t.Fatalf("first read %d, %v; want the first header", n, err)
	}
	if got, want := rc.Buffered(), len(stream)-5; got != want {
		t.Errorf("Buffered() = %d, want %d: what was read ahead and not handed over", got, want)
	}
	reads = append(reads, string(buf[:5]))
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			reads = append(reads, string(buf[:n]))
		}
		if err != nil {
			break
		}
	}
	want := []string{"\x17\x03\x03\x00\x05", "first", "\x17\x03\x03\x00\x00", "\x17\x03\x03\x00\x06", "second"}
	if len(reads) != len(want) {
		t.Fatalf("reads %q, want %q", reads, want)
	}
	for i := range want {
		if reads[i] != want[i] {
			t.Fatalf("read %d = %q, want %q (all: %q)", i, reads[i], want[i], reads)
		}
	}
}

// A record whose plaintext fills the engine's read buffer exactly, or
// more, is read whole before the engine waits for the socket again: the
// packets in it are answered without another record to wake it. (Go's TLS
// client starts with records of about 1 KB and grows them by as much at
// each: by the later writes here, a record carries the whole write.)
func TestRecordLargerThanTheReadBuffer(t *testing.T) {
	s := startServer(t, Options{MaxPacketSize: 64 * 1024}, nil)
	c := s.dial(t, packet.Version311)
	c.connect(packet.Connect{ClientID: "big", Clean: true})
	for _, size := range []int{4096, 4096 + 1, 2 * 4096, 3*4096 - 7} {
		// One PUBLISH padded so that, with a PINGREQ, the record's
		// plaintext is exactly size bytes.
		pk := packet.Publish{Topic: "t", QoS: 1, PacketID: 1}
		pk.Payload = make([]byte, size-2-pk.Size(packet.Version311))
		for pk.Size(packet.Version311)+2 > size { // a longer Remaining Length
			pk.Payload = pk.Payload[1:]
		}
		rec := packet.AppendPingreq(pk.Append(nil, packet.Version311))
		if len(rec) != size {
			t.Fatalf("record of %d bytes, want %d", len(rec), size)
		}
		c.write(rec)
		c.expectAck(packet.PUBACK, 1)
		c.expect(packet.PINGRESP)
	}
}
