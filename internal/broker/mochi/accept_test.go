package mochi

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// failingListener fails every Accept as a process out of file descriptors
// does, until told to succeed.
type failingListener struct {
	mu      sync.Mutex
	succeed bool
	closed  chan struct{}
	once    sync.Once
}

func newFailingListener() *failingListener {
	return &failingListener{closed: make(chan struct{})}
}

func (l *failingListener) Accept() (net.Conn, error) {
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.succeed {
		l.succeed = false // one connection, that closes at once
		server, client := net.Pipe()
		_ = client.Close()
		return server, nil
	}
	return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}

func (l *failingListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *failingListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// At the file-descriptor limit every accept fails, again and again while
// devices wait in the kernel's queue: each failure is counted, but logged
// once, then once per acceptLogInterval with how many followed, and once
// more when accepting works again.
func TestAcceptFailuresLoggedPerInterval(t *testing.T) {
	clock := newFakeClock()
	var logs syncBuffer
	e := newEnv(t, withClock(clock), withLog(&logs))
	e.dialRaw("device", 4) // Serve is running: its context is set
	fl := newFailingListener()
	t.Cleanup(func() { _ = fl.Close() })
	ln := newTrackingListener(e.b, fl, "test")
	if !e.b.goTracked(func() { e.b.acceptMQTT(ln) }) {
		t.Fatal("broker not serving")
	}
	count := func(msg string) int { return strings.Count(logs.String(), fmt.Sprintf("msg=%q", msg)) }

	waitFor(t, "5 accept failures", func() bool { return e.b.Stats().AcceptFailures >= 5 })
	if got := count("mqtt accept failing: devices cannot connect (out of file descriptors?)"); got != 1 {
		t.Errorf("%d first-failure lines, want 1:\n%s", got, logs.String())
	}
	if got := count("mqtt accept still failing"); got != 0 {
		t.Errorf("%d summary lines within the interval, want 0:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "fd_limit=") || !strings.Contains(logs.String(), "too many open files") {
		t.Errorf("the first line names neither the fd limit nor the error:\n%s", logs.String())
	}

	clock.advance(acceptLogInterval)
	waitFor(t, "a summary line", func() bool { return count("mqtt accept still failing") == 1 })
	n := e.b.Stats().AcceptFailures
	waitFor(t, "more failures", func() bool { return e.b.Stats().AcceptFailures >= n+2 })
	if got := count("mqtt accept still failing"); got != 1 {
		t.Errorf("%d summary lines, want 1 per interval:\n%s", got, logs.String())
	}

	fl.mu.Lock()
	fl.succeed = true
	fl.mu.Unlock()
	waitFor(t, "the recovery line", func() bool { return count("mqtt accept recovered") == 1 })
}

func TestMaxConnectionsFor(t *testing.T) {
	tests := []struct {
		limit uint64
		known bool
		want  int
	}{
		{0, false, DefaultMaxConnections},
		{1200, true, 1200 - 120}, // the issue's `ulimit -n 1200`
		{1024, true, 1024 - 102},
		{256, true, 256 - 64},
		{64, true, 1},
		{65536, true, 65536 - 6553},
		{1 << 20, true, DefaultMaxConnections},
		{^uint64(0), true, DefaultMaxConnections}, // unlimited
	}
	for _, tt := range tests {
		if got := MaxConnectionsFor(tt.limit, tt.known); got != tt.want {
			t.Errorf("MaxConnectionsFor(%d, %v) = %d, want %d", tt.limit, tt.known, got, tt.want)
		}
	}
}

// The zero value of MaxConnections leaves room under the process's
// file-descriptor limit; an explicit value above it gets a warning at Open.
func TestMaxConnectionsDefaultFromFDLimit(t *testing.T) {
	limit, ok := fileLimit()
	if !ok {
		t.Skip("no file-descriptor limit on this platform")
	}
	var logs syncBuffer
	e := newEnv(t, withLog(&logs))
	if got, want := e.b.cfg.MaxConnections, MaxConnectionsFor(limit, true); got != want {
		t.Errorf("MaxConnections %d, want %d under a limit of %d", got, want, limit)
	}
	const warning = "file descriptor limit below the maximum of mqtt connections"
	if strings.Contains(logs.String(), warning) {
		t.Errorf("warned with the default:\n%s", logs.String())
	}

	var logs2 syncBuffer
	over := int(min(limit, 1<<40)) // beyond any limit's room
	newEnv(t, withLog(&logs2), func(c *Config) { c.MaxConnections = over })
	if !strings.Contains(logs2.String(), warning) || !strings.Contains(logs2.String(), fmt.Sprintf("max_connections=%d", over)) {
		t.Errorf("no warning for MaxConnections %d under a limit of %d:\n%s", over, limit, logs2.String())
	}
}
