package mqttserver

import (
	"crypto/tls"
	"net"
	"syscall"
)

// RecordConn is the connection under a TLS server connection that the
// engine may park on without crypto/tls's frames: it hands TLS one record
// at a time, so that once the engine has read a record's plaintext in one
// Read, nothing waits inside crypto/tls, and the engine can wait for the
// socket to become readable instead of waiting in tls.Conn.Read (a
// goroutine parked there keeps a stack twice the size: see readiness).
// Each record costs two reads of the socket, its header and its body.
type RecordConn struct {
	net.Conn
	header [5]byte
	nh     int // header bytes read
	left   int // body bytes of the current record still to read
}

// NewRecordConn wraps c, the transport of a tls.Server to be served by
// the engine.
func NewRecordConn(c net.Conn) *RecordConn { return &RecordConn{Conn: c} }

// Read reads no further than the end of the current TLS record (RFC 8446
// §5.1: a five byte header whose last two bytes are the length).
func (r *RecordConn) Read(b []byte) (int, error) {
	if r.left == 0 {
		b = b[:min(len(b), len(r.header)-r.nh)]
		n, err := r.Conn.Read(b)
		copy(r.header[r.nh:], b[:n])
		r.nh += n
		if r.nh == len(r.header) {
			r.left = int(r.header[3])<<8 | int(r.header[4])
			r.nh = 0
		}
		return n, err
	}
	n, err := r.Conn.Read(b[:min(len(b), r.left)])
	r.left -= n
	return n, err
}

// readiness returns what lets the engine wait for nc to become readable
// without reading it: the socket under a TLS connection over a
// RecordConn whose transport exposes its file descriptor. nil otherwise
// (a WebSocket, a TLS connection over anything else): the engine then
// waits in a read.
func readiness(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil
	}
	rc, ok := tc.NetConn().(*RecordConn)
	if !ok {
		return nil
	}
	sc, ok := rc.Conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil || !canPeek {
		return nil
	}
	return raw
}
