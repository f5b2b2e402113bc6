package bench

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused connection", &tcpError{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, "tcp connect: connection refused"},
		{"tcp timeout", &tcpError{os.ErrDeadlineExceeded}, "tcp connect: timeout"},
		{"out of file descriptors", &tcpError{&net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.EMFILE)}}, "tcp connect: too many open files"},
		{"system out of file descriptors", &tcpError{&net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.ENFILE)}}, "tcp connect: too many open files"},
		{"out of local ports", &tcpError{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}}, "tcp connect: no free local port"},
		{"handshake closed", &handshakeError{io.EOF}, "tls handshake: closed by the server"},
		{"handshake reset", &handshakeError{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, "tls handshake: closed by the server"},
		{"held, closed after the keep-alive", &closedError{err: io.EOF, silent: time.Second, keepAlive: time.Second}, "closed by the server: keep-alive"},
		{"held, closed", &closedError{err: io.EOF, silent: 999 * time.Millisecond, keepAlive: time.Second}, "closed by the server"},
		{"held, reset", &closedError{err: syscall.ECONNRESET, keepAlive: time.Second}, "closed by the server"},
		{"no PINGRESP", fmt.Errorf("%w (10s)", errNoPingresp), "no PINGRESP in time"},
		{"untrusted server", &handshakeError{x509.UnknownAuthorityError{}}, "tls handshake: server certificate not trusted"},
		{"handshake timeout", &handshakeError{fmt.Errorf("read: %w", os.ErrDeadlineExceeded)}, "tls handshake: timeout"},
		{"handshake other", &handshakeError{errors.New("remote error: tls: handshake failure")}, "tls handshake failed"},
		{"CONNACK refused", fmt.Errorf("reconnect: %w", &RefusedError{Code: 5}), "CONNACK refused: not authorized (5)"},
		{"CONNACK unknown code", &RefusedError{Code: 9}, "CONNACK refused: return code 9"},
		{"dropped", fmt.Errorf("%w: %w", ErrDropped, io.EOF), "dropped before CONNACK"},
		{"CONNACK timeout", fmt.Errorf("wait for CONNACK: %w", os.ErrDeadlineExceeded), "timeout"},
		{"closed while waiting", fmt.Errorf("wait for PUBACK: %w", io.ErrUnexpectedEOF), "connection closed"},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "connection closed"},
		{"malformed", fmt.Errorf("%w: x", errMalformed), "malformed packet"},
		{"server DISCONNECT", fmt.Errorf("wait for PUBACK: %w", errServerDisconnect), "disconnected by the server"},
		{"anything else", errors.New("boom"), "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reason(tc.err); got != tc.want {
				t.Errorf("reason(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	var f failures
	if n := f.total(); n != 0 {
		t.Fatalf("empty total = %d", n)
	}
	counts, examples := f.report()
	if counts == nil || len(counts) != 0 || len(examples) != 0 {
		t.Fatalf("empty report = %v, %v; want an empty, non-nil map", counts, examples)
	}
	f.add("publish", fmt.Errorf("wait for PUBACK: %w", io.EOF))
	f.add("reconnect", fmt.Errorf("%w: first", ErrDropped))
	f.add("reconnect", fmt.Errorf("%w: second", ErrDropped))
	counts, examples = f.report()
	want := map[string]int64{"reconnect: dropped before CONNACK": 2, "publish: connection closed": 1}
	if len(counts) != len(want) || counts["reconnect: dropped before CONNACK"] != 2 || counts["publish: connection closed"] != 1 {
		t.Errorf("counts = %v, want %v", counts, want)
	}
	if f.total() != 3 {
		t.Errorf("total = %d, want 3", f.total())
	}
	if len(examples) != 2 || examples[0].reason != "reconnect: dropped before CONNACK" || examples[0].first != "connection closed before CONNACK: first" {
		t.Errorf("examples = %+v; want the most frequent first, with its first error", examples)
	}
}
