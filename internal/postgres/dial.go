package postgres

import (
	"context"
	"net"
	"time"
)

// A connection to PostgreSQL that stops answering (a network partition:
// the server neither answers nor refuses) must fail within seconds, not
// when the operating system's defaults give up on it (about 2.5 minutes of
// keep-alive probes for a connection waiting for a reply; up to 15 minutes
// of retransmissions on Linux for a statement never acknowledged). A node
// writes through one shared transaction at a time (group commit), so a
// connection that hangs holds all of the node's writes.
const (
	// keepAliveIdle, keepAliveInterval and keepAliveCount close a
	// connection whose peer has not acknowledged a probe for
	// keepAliveIdle + keepAliveCount*keepAliveInterval (25 s).
	keepAliveIdle     = 10 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
	// userTimeout closes a connection whose sent data stays
	// unacknowledged this long (Linux's TCP_USER_TIMEOUT; elsewhere the
	// system's retransmission limits apply).
	userTimeout = 30 * time.Second
)

// dial opens a connection to PostgreSQL with those timeouts.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount},
		Control:         setUserTimeout,
	}
	return d.DialContext(ctx, network, addr)
}
