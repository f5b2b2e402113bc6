package mqttserver

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"syscall"
)

// RecordConn is the connection under a TLS server connection that lets
// the engine park an idle connection's goroutine on the socket rather than
// inside crypto/tls (a goroutine parked in tls.Conn.Read keeps a stack
// twice the size: see chunks.go). It reads ahead from the socket into a
// pooled buffer, held only while it has bytes, and hands crypto/tls one
// record at a time from it: once the engine has read a record's plaintext
// in one Read, nothing waits inside crypto/tls, and what waits in the
// RecordConn is known (Buffered). So the engine may wait for the socket to
// become readable whenever Buffered is 0.
type RecordConn struct {
	net.Conn
	buf  *[]byte // read ahead; nil when empty
	r, w int     // the unread bytes are (*buf)[r:w]
	err  error   // what the read that filled buf returned, for after it

	header [5]byte // the current record's header, as far as read
	nh     int
	left   int // body bytes of the current record still to hand over
}

// readAhead holds what a RecordConn has read and not yet handed over: a
// few small records, or part of a large one (a read of the socket fills
// at most this much).
var readAhead = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// NewRecordConn wraps c, the transport of a tls.Server to be served by
// the engine.
func NewRecordConn(c net.Conn) *RecordConn { return &RecordConn{Conn: c} }

// Read hands over what was read ahead, no further than the end of the
// current TLS record (RFC 8446 §5.1: a five byte header whose last two
// bytes are the length), reading from the socket when nothing is.
func (r *RecordConn) Read(b []byte) (int, error) {
	if r.r == r.w {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	var n int
	if r.left == 0 {
		n = copy(b[:min(len(b), len(r.header)-r.nh)], (*r.buf)[r.r:r.w])
		copy(r.header[r.nh:], b[:n])
		r.nh += n
		if r.nh == len(r.header) {
			r.left = int(r.header[3])<<8 | int(r.header[4])
			r.nh = 0
		}
	} else {
		n = copy(b[:min(len(b), r.left)], (*r.buf)[r.r:r.w])
		r.left -= n
	}
	r.r += n
	if r.r == r.w {
		readAhead.Put(r.buf)
		r.buf, r.r, r.w = nil, 0, 0
	}
	return n, nil
}

// fill reads from the socket into the read-ahead buffer.
func (r *RecordConn) fill() error {
	if r.err != nil {
		return r.err
	}
	if r.buf == nil {
		r.buf = readAhead.Get().(*[]byte)
	}
	n, err := r.Conn.Read(*r.buf)
	r.r, r.w, r.err = 0, n, err
	if n == 0 {
		readAhead.Put(r.buf)
		r.buf = nil
		if err == nil {
			return nil // a zero-byte read: the caller reads again
		}
		r.err = nil // a deadline passes; a later read may succeed
		return err
	}
	if err != nil && isTimeout(err) {
		r.err = nil // handed back with the bytes: none is lost
	}
	return nil
}

// Buffered is how many bytes were read ahead and not handed to crypto/tls.
func (r *RecordConn) Buffered() int { return r.w - r.r }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readiness returns what lets the engine wait for nc to become readable
// without reading it: the RecordConn under a TLS connection and its
// socket, where its transport exposes one. rc is nil otherwise (a
// WebSocket, a TLS connection over anything else): the engine then waits
// in a read.
func readiness(nc net.Conn) (rc *RecordConn, raw syscall.RawConn) {
	tc, ok := nc.(*tls.Conn)
	if !ok || !canPeek {
		return nil, nil
	}
	rc, ok = tc.NetConn().(*RecordConn)
	if !ok {
		return nil, nil
	}
	sc, ok := rc.Conn.(syscall.Conn)
	if !ok {
		return nil, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, nil
	}
	return rc, raw
}
