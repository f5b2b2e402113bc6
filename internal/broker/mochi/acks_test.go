package mochi

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iottest"
)

// recordingConn records each write to it and reads from a fixed input.
type recordingConn struct {
	net.Conn
	writes [][]byte
	input  []byte
}

func (r *recordingConn) Write(b []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(b))
	return len(b), nil
}

func (r *recordingConn) Read(b []byte) (int, error) {
	n := copy(b, r.input)
	r.input = r.input[n:]
	return n, nil
}

// PUBACKs written while the connection's goroutine deals with input already
// read go out together when it reads again, or before any other write, in
// order; otherwise at once.
func TestAcksBatchedUntilNextRead(t *testing.T) {
	rec := &recordingConn{input: make([]byte, 64)}
	c := &conn{Conn: rec}
	ack := func(id byte) []byte { return []byte{0x40, 0x02, 0x00, id} }

	// Idle (no input being dealt with): written at once.
	if _, err := c.Write(ack(1)); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 1 {
		t.Fatalf("%d writes, want the PUBACK written at once", len(rec.writes))
	}

	buf := make([]byte, 16)
	if _, err := c.Read(buf); err != nil { // input read: now dealing with it
		t.Fatal(err)
	}
	for id := byte(2); id <= 4; id++ {
		if _, err := c.Write(ack(id)); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.writes) != 1 {
		t.Fatalf("%d writes while dealing with input: want the PUBACKs held", len(rec.writes))
	}
	if _, err := c.Read(buf); err != nil { // back for more: they go out, as one write
		t.Fatal(err)
	}
	if want := bytes.Join([][]byte{ack(2), ack(3), ack(4)}, nil); len(rec.writes) != 2 || !bytes.Equal(rec.writes[1], want) {
		t.Fatalf("writes %x, want the three PUBACKs in one write", rec.writes)
	}

	// Another packet goes after the PUBACKs held before it.
	if _, err := c.Write(ack(5)); err != nil {
		t.Fatal(err)
	}
	publish := []byte{0x30, 0x03, 0x00, 0x01, 'a'}
	if _, err := c.Write(publish); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 4 || !bytes.Equal(rec.writes[2], ack(5)) || !bytes.Equal(rec.writes[3], publish) {
		t.Fatalf("writes %x, want the PUBACK then the PUBLISH", rec.writes)
	}
}

func TestIsAck(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{[]byte{0x40, 0x02, 0x00, 0x01}, true},                     // 3.1.1
		{[]byte{0x40, 0x03, 0x00, 0x01, 0x87}, true},               // MQTT 5 with a reason code
		{[]byte{0x40, 0x02, 0x00}, false},                          // short
		{[]byte{0x40, 0x02, 0x00, 0x01, 0x40, 0x02}, false},        // more than one packet
		{[]byte{0x30, 0x02, 0x00, 0x01}, false},                    // PUBLISH
		{[]byte{0x90, 0x03, 0x00, 0x01, 0x00}, false},              // SUBACK
		{append([]byte{0x40, 0x20}, make([]byte, 0x20)...), false}, // too long to be one
	} {
		if got := isAck(tc.b); got != tc.want {
			t.Errorf("isAck(%x) = %v, want %v", tc.b, got, tc.want)
		}
	}
}

// blockingConn's writes wait until released; reads return at once.
type blockingConn struct {
	net.Conn
	release chan struct{}
}

func (b *blockingConn) Write(p []byte) (int, error) {
	select {
	case <-b.release:
		return len(p), nil
	case <-time.After(iottest.Timeout): // the test failed before releasing it
		return 0, errors.New("blockingConn: never released")
	}
}

func (b *blockingConn) Read(p []byte) (int, error) { return len(p), nil }

// Reading never waits for a write in progress (to a device slow to read,
// say): the device's own packets are read meanwhile, as before batching.
func TestReadDoesNotWaitForWrites(t *testing.T) {
	bc := &blockingConn{release: make(chan struct{})}
	c := &conn{Conn: bc}
	defer close(bc.release)
	buf := make([]byte, 8)
	if _, err := c.Read(buf); err != nil { // dealing with input now
		t.Fatal(err)
	}
	go func() { _, _ = c.Write([]byte{0x30, 0x03, 0x00, 0x01, 'a'}) }() // blocks, holding the write lock
	waitFor(t, "the write to start", func() bool {
		if c.wmu.TryLock() {
			c.wmu.Unlock()
			return false
		}
		return true
	})
	c.acksHeld.Store(true) // as if PUBACKs were held before that write began
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		read <- err
	}()
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Read waited for a write in progress")
	}
}
