package mochi

import (
	"fmt"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// AWS IoT Core's per-device limits [AWS 8.4] [AWS 9], the defaults of the
// Config fields of the same names. A negative Config value turns a limit off.
const (
	// DefaultMaxClientIDLength is the longest client id, in bytes.
	DefaultMaxClientIDLength = 128
	// DefaultMaxTopicLength is the longest topic name or filter, in bytes,
	// not counting the Basic Ingest prefix $aws/rules/<rule>/.
	DefaultMaxTopicLength = 256
	// DefaultMaxTopicLevels is the most levels (7 slashes) in a topic name
	// or filter, not counting the Basic Ingest prefix.
	DefaultMaxTopicLevels = 8
	// DefaultMaxFiltersPerSubscribe is the most topic filters in one SUBSCRIBE.
	DefaultMaxFiltersPerSubscribe = 8
	// DefaultMaxSubscriptions is the most subscriptions one connection holds.
	DefaultMaxSubscriptions = 50
	// DefaultConnectRate is how many CONNECTs per second one client id may
	// make: AWS's 1.
	DefaultConnectRate = 1
	// DefaultConnectBurst is how many CONNECTs one client id may make at
	// once before DefaultConnectRate applies. AWS documents no burst: this
	// lets a device reconnect at once after the JITP first-connection drop,
	// or a test script reconnect a few times in a row.
	DefaultConnectBurst = 10
	// DefaultPublishRate is how many PUBLISH packets per second one
	// connection may send and receive, together; as many may come at once.
	DefaultPublishRate = 100
	// DefaultMaxConnections is the most device connections served at once:
	// AWS's default per account, or fewer where the file-descriptor limit
	// leaves less room (MaxConnectionsFor).
	DefaultMaxConnections = 500_000
	// DefaultMinKeepAlive and DefaultMaxKeepAlive bound the keep-alive a
	// device may ask for; 0 (none) means the maximum.
	DefaultMinKeepAlive = 30 * time.Second
	DefaultMaxKeepAlive = 1200 * time.Second
	// DefaultWebSocketTTL is AWS's limit on a WebSocket connection's life.
	DefaultWebSocketTTL = 24 * time.Hour
)

// Limits are the limits a broker holds devices to: AWS IoT Core's, and the
// timeouts and queue of this server. One struct carries them from the
// serve flags (cmd/iotcore) through server.Config to the engine.
type Limits struct {
	// HandshakeTimeout bounds the TLS handshake (and, on the WebSocket
	// listener, the HTTP upgrade request). Default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// ConnectTimeout bounds the wait for the CONNECT packet once TLS is up,
	// and separately the gate's decision on it. Default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// MaxPacketSize is the largest MQTT packet accepted, in bytes; a device
	// that sends a larger one is disconnected. Default DefaultMaxPacketSize.
	MaxPacketSize int
	// OutboundQueue is how many packets may wait to be written to one
	// device; beyond, messages to it are dropped and counted. Default
	// DefaultOutboundQueue.
	OutboundQueue int
	// StallTimeout is how long a subscriber whose outbound queue or QoS 1
	// window is nearly full may take nothing before messages to it are
	// dropped; until then its publishers are held back (flow.go). Default
	// DefaultStallTimeout; negative: never hold publishers back.
	StallTimeout time.Duration
	// WebSocketTTL is how long a connection over WebSocket may last: AWS
	// closes them after 24 hours (disconnect reason
	// WEBSOCKET_TTL_EXPIRATION). Default DefaultWebSocketTTL; negative:
	// no limit.
	WebSocketTTL time.Duration

	// AWS IoT Core's limits (limits.go). Zero means AWS's value, the
	// Default... constant of the same name; a negative value turns the
	// limit off (but for ConnectBurst and the keep-alive range). What a
	// device that breaks one is told is said where each is enforced.

	// MaxClientIDLength is the longest client id, in bytes: longer ones are
	// refused at CONNECT (connect.go).
	MaxClientIDLength int
	// MaxTopicLength and MaxTopicLevels bound topic names (publish.go) and
	// topic filters (subscribe.go), in bytes and levels, the Basic Ingest
	// prefix $aws/rules/<rule>/ and the shared-subscription prefix
	// $share/<group>/ not counted.
	MaxTopicLength, MaxTopicLevels int
	// MaxFiltersPerSubscribe is the most topic filters in one SUBSCRIBE;
	// MaxSubscriptions the most subscriptions one connection holds
	// (subscribe.go).
	MaxFiltersPerSubscribe, MaxSubscriptions int
	// ConnectRate is how many CONNECTs per second a client id may make once
	// it has made ConnectBurst at once (connect.go).
	ConnectRate, ConnectBurst int
	// PublishRate is how many PUBLISH packets per second one connection may
	// send and receive together, with a burst of as many; the rest are
	// discarded and counted (publish.go, subscribe.go).
	PublishRate int
	// MaxConnections is the most device connections served at once; more
	// are refused at CONNECT (connect.go). Zero means DefaultMaxConnections
	// or, if the process's file-descriptor limit leaves less room, that
	// limit less a reserve for the rest of the server (MaxConnectionsFor).
	// Open warns when an explicit value exceeds what the limit allows.
	MaxConnections int
	// MinKeepAlive and MaxKeepAlive bound the keep-alive a device may ask
	// for; a device silent for 1.5 times its keep-alive is disconnected.
	// Whole seconds, at least 1s.
	MinKeepAlive, MaxKeepAlive time.Duration
}

// basicIngestPrefix starts Basic Ingest topics, $aws/rules/<rule>/..., whose
// first three levels do not count against the topic limits [AWS 8.4].
const basicIngestPrefix = "$aws/rules/"

// limitsWithDefaults applies the defaults of the limits' zero values and
// checks the rest.
func (c *Config) limitsWithDefaults() error {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.MaxClientIDLength, DefaultMaxClientIDLength)
	def(&c.MaxTopicLength, DefaultMaxTopicLength)
	def(&c.MaxTopicLevels, DefaultMaxTopicLevels)
	def(&c.MaxFiltersPerSubscribe, DefaultMaxFiltersPerSubscribe)
	def(&c.MaxSubscriptions, DefaultMaxSubscriptions)
	def(&c.ConnectRate, DefaultConnectRate)
	def(&c.ConnectBurst, DefaultConnectBurst)
	def(&c.PublishRate, DefaultPublishRate)
	if c.MaxConnections == 0 {
		limit, ok := fileLimit()
		c.MaxConnections = MaxConnectionsFor(limit, ok)
	}
	if c.MinKeepAlive == 0 {
		c.MinKeepAlive = DefaultMinKeepAlive
	}
	if c.WebSocketTTL == 0 {
		c.WebSocketTTL = DefaultWebSocketTTL
	}
	if c.MaxKeepAlive == 0 {
		c.MaxKeepAlive = DefaultMaxKeepAlive
	}
	switch {
	case c.ConnectBurst < 0:
		return fmt.Errorf("connect burst %d: must be positive", c.ConnectBurst)
	case c.MinKeepAlive < time.Second || c.MaxKeepAlive < time.Second:
		return fmt.Errorf("keep-alive range %v to %v: both must be at least 1s", c.MinKeepAlive, c.MaxKeepAlive)
	case c.MinKeepAlive > c.MaxKeepAlive:
		return fmt.Errorf("keep-alive range %v to %v: the minimum exceeds the maximum", c.MinKeepAlive, c.MaxKeepAlive)
	case c.MaxKeepAlive > 65535*time.Second:
		return fmt.Errorf("maximum keep-alive %v: MQTT allows at most 65535s", c.MaxKeepAlive)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// MaxConnectionsFor is the default maximum of device connections under a
// file-descriptor limit (RLIMIT_NOFILE; known false: unknown or unlimited):
// DefaultMaxConnections, or the limit less FDReserve if that is lower.
// Every connection holds a descriptor from its TCP accept, and a server
// that runs out cannot accept one (nor open its database, nor answer the
// API): refused at CONNECT, a device is told to come back later (quota
// exceeded, or server unavailable) instead. It is at least 1.
func MaxConnectionsFor(limit uint64, known bool) int {
	if !known || limit > DefaultMaxConnections+FDReserve(limit) {
		return DefaultMaxConnections
	}
	return int(max(limit-min(limit, FDReserve(limit)), 1))
}

// FDReserve is how many of limit file descriptors the default maximum of
// connections leaves for the rest of the server: the SQLite database and
// its journal, the API's, console's and metrics' connections, connections
// in their TLS handshake, logs. A tenth, and at least 64.
func FDReserve(limit uint64) uint64 {
	return max(64, limit/10)
}

// warnFDLimit warns when the file-descriptor limit leaves less room than
// MaxConnections: the server would then run out of descriptors, failing
// accepts (and its database) rather than refusing CONNECTs.
func (c Config) warnFDLimit() {
	limit, ok := fileLimit()
	if !ok || c.MaxConnections <= 0 || uint64(c.MaxConnections)+FDReserve(limit) <= limit {
		return
	}
	c.Logger.Warn("file descriptor limit below the maximum of mqtt connections: raise it (ulimit -n) or lower --mqtt-max-connections",
		"fd_limit", limit, "max_connections", c.MaxConnections, "reserve", FDReserve(limit),
		"suggested_max_connections", MaxConnectionsFor(limit, true))
}

// keepalive is the keep-alive enforced for the one a device asked for: as
// AWS, between MinKeepAlive and MaxKeepAlive (30 and 1200 seconds), with 0
// (none) and anything above the maximum becoming the maximum [AWS 8.4].
// mochi then cuts a device silent for 1.5 times that [MQTT-3.1.2-22].
func (c Config) keepalive(k uint16) uint16 {
	lo, hi := uint16(c.MinKeepAlive/time.Second), uint16(c.MaxKeepAlive/time.Second)
	switch {
	case k == 0 || k > hi:
		return hi
	case k < lo:
		return lo
	}
	return k
}

// topicLimitExceeded says which limit a topic name or filter breaks, ""
// if none. The Basic Ingest prefix $aws/rules/<rule>/ and the shared
// subscription prefix $share/<group>/ are not counted.
func (c Config) topicLimitExceeded(topic string) string {
	t := topic
	if rest, ok := strings.CutPrefix(t, basicIngestPrefix); ok {
		if _, after, ok := strings.Cut(rest, "/"); ok {
			t = after
		}
	} else if mqtt.IsSharedFilter(t) {
		if _, after, ok := strings.Cut(t, "/"); ok { // $share/
			if _, after, ok := strings.Cut(after, "/"); ok { // <group>/
				t = after
			}
		}
	}
	switch {
	case c.MaxTopicLength > 0 && len(t) > c.MaxTopicLength:
		return fmt.Sprintf("longer than %d bytes", c.MaxTopicLength)
	case c.MaxTopicLevels > 0 && strings.Count(t, "/")+1 > c.MaxTopicLevels:
		return fmt.Sprintf("more than %d levels", c.MaxTopicLevels)
	}
	return ""
}

// bucket is a token bucket: up to burst tokens, refilled at rate per
// second. The caller synchronizes.
type bucket struct {
	tokens float64
	last   time.Time // zero: full
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	switch {
	case b.last.IsZero():
		b.tokens = burst
	case now.After(b.last):
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	default:
		return // the clock went back: keep what we have
	}
	b.last = now
}

// connectLimiter enforces the CONNECT rate per client id [AWS 9]: a token
// bucket per client id. A CONNECT is refused while its client id's bucket
// is empty, and takes a token once the gate has admitted it: CONNECTs the
// gate refuses (unknown certificates, the JITP first connection) cost
// nothing, so nobody can lock a device out by connecting with its client id
// and another certificate.
type connectLimiter struct {
	rate, burst float64 // rate <= 0: no limit

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int // sweep full buckets when the map reaches this size
}

func newConnectLimiter(rate, burst int) *connectLimiter {
	return &connectLimiter{rate: float64(rate), burst: float64(burst), buckets: map[string]*bucket{}, sweepAt: 1024}
}

// allowed reports whether id may connect now.
func (l *connectLimiter) allowed(id string, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[id]
	if !ok {
		return true
	}
	b.refill(now, l.rate, l.burst)
	return b.tokens >= 1
}

// take counts an admitted CONNECT of id. Admissions that passed allowed
// together may take the bucket below zero: the next CONNECT waits longer.
func (l *connectLimiter) take(id string, now time.Time) {
	if l.rate <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[id]
	if !ok {
		b = &bucket{}
		l.buckets[id] = b
	}
	b.refill(now, l.rate, l.burst)
	b.tokens--
	if len(l.buckets) >= l.sweepAt {
		l.sweep(now)
	}
}

// sweep forgets full buckets, which are as good as none: the map holds only
// the client ids that connected within the last burst/rate seconds.
func (l *connectLimiter) sweep(now time.Time) {
	for id, b := range l.buckets {
		if b.refill(now, l.rate, l.burst); b.tokens >= l.burst {
			delete(l.buckets, id)
		}
	}
	l.sweepAt = max(1024, 2*len(l.buckets))
}

// publishLimiter enforces a connection's publish rate, inbound and
// outbound together [AWS 9]: a token bucket of rate tokens refilled at rate
// per second.
type publishLimiter struct {
	mu         sync.Mutex
	b          bucket
	throttling bool // the last publish was refused: log only the first of a run
}

// take takes a token if there is one; first reports whether this refusal
// starts a run of them.
func (p *publishLimiter) take(now time.Time, rate int) (ok, first bool) {
	if rate <= 0 {
		return true, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.b.refill(now, float64(rate), float64(rate))
	if p.b.tokens >= 1 {
		p.b.tokens--
		p.throttling = false
		return true, false
	}
	first = !p.throttling
	p.throttling = true
	return false, first
}
