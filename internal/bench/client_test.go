package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// scriptedConn is a net.Conn that reads a script of server packets, keeps
// what the client writes, and remembers the read deadline.
type scriptedConn struct {
	net.Conn // nil: the methods a Conn does not use panic
	in       *bytes.Reader
	out      bytes.Buffer
	deadline time.Time
}

func (s *scriptedConn) Read(b []byte) (int, error)         { return s.in.Read(b) }
func (s *scriptedConn) Write(b []byte) (int, error)        { return s.out.Write(b) }
func (s *scriptedConn) Close() error                       { return nil }
func (s *scriptedConn) SetReadDeadline(t time.Time) error  { s.deadline = t; return nil }
func (s *scriptedConn) SetWriteDeadline(t time.Time) error { return nil }

// scripted is a Conn whose server sends script.
func scripted(script ...[]byte) (*Conn, *scriptedConn) {
	sc := &scriptedConn{in: bytes.NewReader(bytes.Join(script, nil))}
	return &Conn{nc: sc, r: bufio.NewReader(sc), timeout: time.Minute, keepalive: 60}, sc
}

var (
	connackOK      = []byte{packets.Connack << 4, 2, 0, 0}
	connackRefused = []byte{packets.Connack << 4, 2, 0, 5}
)

// TestConnCONNACK checks the CONNACK outcomes, and that the CONNACK's deadline
// does not outlive it: a publisher reads PUBACKs for longer than the
// timeout.
func TestConnCONNACK(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script [][]byte
		check  func(error) bool
	}{
		{"accepted", [][]byte{connackOK}, func(err error) bool { return err == nil }},
		{"refused", [][]byte{connackRefused}, func(err error) bool {
			var r *RefusedError
			return errors.As(err, &r) && r.Code == 5
		}},
		{"dropped", nil, func(err error) bool { return errors.Is(err, ErrDropped) && errors.Is(err, io.EOF) }},
		{"dropped mid-packet", [][]byte{connackOK[:3]}, func(err error) bool { return errors.Is(err, ErrDropped) }},
		{"something else first", [][]byte{{packets.Pingresp << 4, 0}}, func(err error) bool { return errors.Is(err, errMalformed) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sc := scripted(tc.script...)
			err := c.Connect("dev-c0")
			if !tc.check(err) {
				t.Errorf("Connect = %v", err)
			}
			if !sc.deadline.IsZero() {
				t.Errorf("Connect left a read deadline of %v", sc.deadline)
			}
			if pk := mochiDecode(t, sc.out.Bytes()); pk.Connect.ClientIdentifier != "dev-c0" || pk.Connect.Keepalive != 60 {
				t.Errorf("sent CONNECT %+v", pk.Connect)
			}
		})
	}
}

// TestAwait checks that Await skips other packets, and leaves no deadline.
func TestAwait(t *testing.T) {
	c, sc := scripted(appendPuback(nil, 1), appendPublish(nil, "t", 0, 0, []byte("x")), appendPuback(nil, 2))
	p, err := c.Await(packets.Puback, 2)
	if err != nil || p.ID != 2 {
		t.Fatalf("Await(PUBACK 2) = %+v, %v", p, err)
	}
	if !sc.deadline.IsZero() {
		t.Errorf("Await left a read deadline of %v", sc.deadline)
	}
	if _, err := c.Await(packets.Puback, 3); !errors.Is(err, io.EOF) {
		t.Errorf("Await past the end = %v, want EOF", err)
	}
}

func TestSubscribe(t *testing.T) {
	for _, tc := range []struct {
		name     string
		suback   []byte
		wantCode byte
		wantErr  error
	}{
		{"granted", []byte{packets.Suback << 4, 3, 0, 7, 1}, 1, nil},
		{"refused", []byte{packets.Suback << 4, 3, 0, 7, 0x80}, 0x80, nil},
		{"two codes for one filter", []byte{packets.Suback << 4, 4, 0, 7, 1, 1}, 0, errMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sc := scripted(tc.suback)
			code, err := c.Subscribe(7, "+/bench", 1)
			if code != tc.wantCode || !errors.Is(err, tc.wantErr) {
				t.Errorf("Subscribe = %#x, %v; want %#x, %v", code, err, tc.wantCode, tc.wantErr)
			}
			if pk := mochiDecode(t, sc.out.Bytes()); pk.PacketID != 7 || pk.Filters[0].Filter != "+/bench" {
				t.Errorf("sent SUBSCRIBE %+v", pk)
			}
		})
	}
}

// TestPublishBuffers checks that publishes and acknowledgements wait for
// Flush, or for the buffer to fill.
func TestPublishBuffers(t *testing.T) {
	c, sc := scripted()
	payload := make([]byte, 64)
	if err := c.Publish("t", 1, 1, payload); err != nil {
		t.Fatal(err)
	}
	if err := c.Puback(9); err != nil {
		t.Fatal(err)
	}
	if sc.out.Len() != 0 || c.Buffered() == 0 {
		t.Fatalf("wrote %d bytes before Flush (buffered %d)", sc.out.Len(), c.Buffered())
	}
	if err := c.Flush(); err != nil || c.Buffered() != 0 {
		t.Fatalf("Flush = %v, %d left", err, c.Buffered())
	}
	want := appendPuback(appendPublish(nil, "t", 1, 1, payload), 9)
	if !bytes.Equal(sc.out.Bytes(), want) {
		t.Errorf("wrote %x, want %x", sc.out.Bytes(), want)
	}
	sc.out.Reset()
	for i := 0; sc.out.Len() == 0; i++ {
		if i*len(payload) > 2*flushAt {
			t.Fatalf("nothing written after %d bytes of publishes", i*len(payload))
		}
		if err := c.Publish("t", 0, 0, payload); err != nil {
			t.Fatal(err)
		}
	}
	if sc.out.Len() < flushAt {
		t.Errorf("wrote %d bytes when the buffer filled, want at least %d", sc.out.Len(), flushAt)
	}
}

// With PacketPerRecord each packet is written at once, as a record of its
// own; otherwise packets are gathered until Flush or 16 KiB.
func TestPacketPerRecord(t *testing.T) {
	gathered, sc := scripted()
	if err := gathered.Publish("a/b", 0, 0, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if gathered.Buffered() == 0 || sc.out.Len() != 0 {
		t.Fatalf("gathering: %d bytes buffered, %d written; want the PUBLISH held back", gathered.Buffered(), sc.out.Len())
	}
	own, sc := scripted()
	own.flushAt = 1
	for i := range 3 {
		if err := own.Publish("a/b", 1, uint16(i+1), []byte("x")); err != nil {
			t.Fatal(err)
		}
		if own.Buffered() != 0 {
			t.Fatalf("packet per record: %d bytes left buffered after PUBLISH %d", own.Buffered(), i)
		}
	}
	if err := own.Puback(7); err != nil || own.Buffered() != 0 || sc.out.Len() == 0 {
		t.Fatalf("packet per record: PUBACK %v, %d buffered, %d written", err, own.Buffered(), sc.out.Len())
	}
}
