package mochi

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// acceptLogInterval is how often a listener whose accepts keep failing
// logs that they still do.
const acceptLogInterval = time.Minute

// acceptLog rate-limits the log lines of one listener's accept failures.
// Accept fails when the process is out of file descriptors (EMFILE), and
// keeps failing, after a back-off, while connections wait in the kernel's
// queue: the first failure of a run is logged at once, at Warn; then one
// line per acceptLogInterval says how many followed; the first success
// after them says how many there were. Every failure is counted
// (Stats.AcceptFailures).
type acceptLog struct {
	failing atomic.Bool // the last accept failed

	mu     sync.Mutex
	start  time.Time // the run's first failure
	last   time.Time // the run's last line
	run    int64     // failures in the run
	unsaid int64     // failures since the last line
}

// acceptFailed counts and, rate-limited, logs a failed accept on listener.
func (b *Broker) acceptFailed(listener string, l *acceptLog, err error) {
	b.stats.acceptFailures.Add(1)
	now := b.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing.Load() {
		l.failing.Store(true)
		l.start, l.last, l.run, l.unsaid = now, now, 1, 0
		b.log.Warn("mqtt accept failing: devices cannot connect (out of file descriptors?)",
			append([]any{"listener", listener, "error", err}, b.fdLimitAttrs()...)...)
		return
	}
	l.run++
	l.unsaid++
	if now.Sub(l.last) < acceptLogInterval {
		return
	}
	b.log.Warn("mqtt accept still failing",
		append([]any{"listener", listener, "error", err, "failures", l.unsaid, "since", l.start}, b.fdLimitAttrs()...)...)
	l.last, l.unsaid = now, 0
}

// acceptSucceeded ends a run of failures, if any: it costs an atomic load
// otherwise.
func (b *Broker) acceptSucceeded(listener string, l *acceptLog) {
	if !l.failing.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing.Load() {
		return
	}
	l.failing.Store(false)
	b.log.Info("mqtt accept recovered", "listener", listener, "failures", l.run, "failing_for", b.cfg.Now().Sub(l.start))
}

// fdLimitAttrs are log attributes that help an operator see a
// file-descriptor shortage: the process's limit and the connections open.
func (b *Broker) fdLimitAttrs() []any {
	b.mu.Lock()
	open := len(b.raws)
	b.mu.Unlock()
	attrs := []any{"open_connections", open, "max_connections", b.cfg.MaxConnections}
	if limit, ok := fileLimit(); ok {
		attrs = append(attrs, "fd_limit", limit)
	}
	return attrs
}

// trackingListener registers every connection it accepts with the broker,
// and counts and logs failures (acceptLog).
type trackingListener struct {
	net.Listener
	b    *Broker
	name string // listenerMQTT or listenerWSS
	log  *acceptLog
}

func newTrackingListener(b *Broker, ln net.Listener, name string) trackingListener {
	return trackingListener{Listener: ln, b: b, name: name, log: new(acceptLog)}
}

// Accept waits for the next connection. Once the broker is shutting down it
// closes what it accepts and returns net.ErrClosed.
func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		if !errors.Is(err, net.ErrClosed) {
			l.b.acceptFailed(l.name, l.log, err)
		}
		return nil, err
	}
	l.b.acceptSucceeded(l.name, l.log)
	r := &rawConn{Conn: c, b: l.b}
	if !l.b.track(r) {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.b.stats.accepted.Add(1)
	return r, nil
}
