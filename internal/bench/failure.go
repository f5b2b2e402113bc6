package bench

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sort"
	"sync"
	"syscall"
)

// failures counts failed operations by reason; it is safe for concurrent
// use. Reasons are few and stable ("reconnect: dropped before CONNACK"), so
// that a summary can be compared across runs; the first error of each is
// kept whole for the human reader.
type failures struct {
	mu     sync.Mutex
	counts map[string]int64
	first  map[string]string
}

// add counts err, which happened at step.
func (f *failures) add(step string, err error) {
	r := step + ": " + reason(err)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts, f.first = map[string]int64{}, map[string]string{}
	}
	if f.counts[r] == 0 {
		f.first[r] = err.Error()
	}
	f.counts[r]++
}

// total is how many failures were counted.
func (f *failures) total() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int64
	for _, c := range f.counts {
		n += c
	}
	return n
}

// failureExample is one reason, its count and its first error.
type failureExample struct {
	reason string
	count  int64
	first  string
}

// report returns the counts by reason and the reasons with their first
// error, most frequent first.
func (f *failures) report() (map[string]int64, []failureExample) {
	f.mu.Lock()
	defer f.mu.Unlock()
	counts := make(map[string]int64, len(f.counts))
	examples := make([]failureExample, 0, len(f.counts))
	for r, c := range f.counts {
		counts[r] = c
		examples = append(examples, failureExample{reason: r, count: c, first: f.first[r]})
	}
	sort.Slice(examples, func(i, j int) bool {
		if examples[i].count != examples[j].count {
			return examples[i].count > examples[j].count
		}
		return examples[i].reason < examples[j].reason
	})
	return counts, examples
}

// reason names what went wrong in a few stable words.
func reason(err error) string {
	var own interface{ failureReason() string }
	if errors.As(err, &own) {
		return own.failureReason() // an error that names its own reason
	}
	var (
		tcp     *tcpError
		hs      *handshakeError
		refused *RefusedError
		closed  *closedError
		unknown x509.UnknownAuthorityError
		verify  *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.As(err, &closed):
		if closed.keepAliveExpired() {
			return "closed by the server: keep-alive" // the client was silent too long
		}
		return "closed by the server"
	case errors.Is(err, errNoPingresp):
		return "no PINGRESP in time"
	case errors.As(err, &tcp):
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return "tcp connect: connection refused"
		case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
			return "tcp connect: too many open files" // this process's: ulimit -n
		case errors.Is(err, syscall.EADDRNOTAVAIL):
			return "tcp connect: no free local port"
		case isTimeout(err):
			return "tcp connect: timeout"
		}
		return "tcp connect failed"
	case errors.As(err, &hs):
		switch {
		case errors.As(err, &unknown) || errors.As(err, &verify):
			return "tls handshake: server certificate not trusted"
		case isTimeout(err):
			return "tls handshake: timeout"
		case isClosed(err):
			return "tls handshake: closed by the server"
		}
		return "tls handshake failed"
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, ErrDropped):
		return "dropped before CONNACK"
	case errors.Is(err, errServerDisconnect):
		return "disconnected by the server"
	case errors.Is(err, errMalformed):
		return "malformed packet"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection closed"
	}
	return "error"
}
