package mochi

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// rawConn is an accepted TCP connection, under TLS. The broker tracks every
// one from Accept to Close so that shutdown can reach connections mochi does
// not know about yet (in the TLS handshake, before CONNECT, inside the gate).
//
// It can cap its deadlines: once limit is set, no deadline set afterwards,
// by mochi's keep-alive refresh or by crypto/tls's close_notify, can reach
// past it. That bounds every write to a peer that stopped reading when we
// disconnect it or shut down.
type rawConn struct {
	net.Conn
	b     *Broker
	owner atomic.Pointer[conn] // the device connection over it, once TLS is up

	mu    sync.Mutex
	limit time.Time // zero: no cap
}

func (r *rawConn) capLocked(t time.Time) time.Time {
	if !r.limit.IsZero() && (t.IsZero() || t.After(r.limit)) {
		return r.limit
	}
	return t
}

// SetDeadline sets the read and write deadlines, capped.
func (r *rawConn) SetDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Conn.SetDeadline(r.capLocked(t))
}

// SetReadDeadline sets the read deadline, capped.
func (r *rawConn) SetReadDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Conn.SetReadDeadline(r.capLocked(t))
}

// SetWriteDeadline sets the write deadline, capped.
func (r *rawConn) SetWriteDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Conn.SetWriteDeadline(r.capLocked(t))
}

// capDeadlines makes every read and write on the connection fail at t at the
// latest, including those already blocked.
func (r *rawConn) capDeadlines(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limit.IsZero() || t.Before(r.limit) {
		r.limit = t
	}
	_ = r.Conn.SetDeadline(r.limit)
}

// SyscallConn is the TCP connection's, for the iotcore engine to wait for
// it to become readable (mqttserver.RecordConn).
func (r *rawConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := r.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a socket")
	}
	return sc.SyscallConn()
}

// Close closes the TCP connection (no TLS close_notify) and stops tracking it.
func (r *rawConn) Close() error {
	r.b.untrack(r)
	return r.Conn.Close()
}
