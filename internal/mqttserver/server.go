package mqttserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
	"github.com/iotcore/iotcore/internal/mqttserver/topictree"
)

// Options configure a Server; each zero value stands for the default its
// comment gives.
type Options struct {
	// MaxPacketSize is the largest packet accepted, counted whole
	// (fixed header included), and advertised to MQTT 5 clients. Default
	// 128 KiB, AWS IoT Core's limit.
	MaxPacketSize int
	// ReceiveMaximum is how many QoS 1 publishes a client may have awaiting
	// their PUBACK, advertised to MQTT 5 clients. Default 100 (AWS).
	ReceiveMaximum uint16
	// SendWindow is how many QoS 1 messages are sent to one client
	// without their PUBACK, at most (an MQTT 5 client's Receive Maximum
	// may make it fewer). Default 100, as AWS sends.
	SendWindow int
	// MaxInflight is how many QoS 1 messages one session holds awaiting
	// their PUBACK or waiting to be sent (while it is offline, or its
	// window is full); more are dropped. Default 1,000.
	MaxInflight int
	// OutboundQueue is how many packets may wait to be written to one
	// connection; deliveries beyond it are dropped, unless the publisher
	// waits for room (StallTimeout). Default 256.
	OutboundQueue int
	// StallTimeout is how long a publishing client waits for room in a
	// subscriber's outbound queue before its deliveries to that subscriber
	// are dropped instead. Default 5 s; negative: never wait.
	StallTimeout time.Duration
	// TopicAliasMaximum is how many topic aliases an MQTT 5 client may
	// use towards the server. Default 8 (AWS); the server sends none.
	TopicAliasMaximum uint16
	// MaxSessionExpiry caps a persistent session's life after its
	// connection ends, in seconds; an MQTT 3.1.1 session that is not clean
	// gets exactly this. Default 3,600 (AWS's one hour).
	MaxSessionExpiry uint32
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxPacketSize == 0 {
		o.MaxPacketSize = 128 * 1024
	}
	if o.ReceiveMaximum == 0 {
		o.ReceiveMaximum = 100
	}
	if o.SendWindow == 0 {
		o.SendWindow = 100
	}
	if o.MaxInflight == 0 {
		o.MaxInflight = 1000
	}
	if o.OutboundQueue == 0 {
		o.OutboundQueue = 256
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = 5 * time.Second
	}
	if o.TopicAliasMaximum == 0 {
		o.TopicAliasMaximum = 8
	}
	if o.MaxSessionExpiry == 0 {
		o.MaxSessionExpiry = 3600
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("mqttserver: server closed")

// Server is one MQTT server engine: its sessions, subscriptions and
// retained messages.
type Server struct {
	opts  Options
	hooks Hooks

	subs     topictree.Tree[*session]
	retained topictree.Retained[*Message]

	mu       sync.Mutex
	sessions map[string]*session
	conns    map[*conn]struct{}
	closed   bool
	wg       sync.WaitGroup // connections and timers at work

	stats counters
}

// New returns a server that asks hooks.
func New(opts Options, hooks Hooks) *Server {
	return &Server{
		opts:     opts.withDefaults(),
		hooks:    hooks,
		sessions: make(map[string]*session),
		conns:    make(map[*conn]struct{}),
	}
}

// ServeConn serves one client on nc, an established connection (TLS
// handshake done), until it ends; it closes nc. value is the client's
// Value from the start. Close ends every connection. Deadlines on nc until
// the CONNECT arrives are the caller's (OnConnect has its own bounds): the
// engine sets them from then on.
func (s *Server) ServeConn(nc net.Conn, value any) {
	c := newConn(s, nc)
	if value != nil {
		c.client.SetValue(value)
	}
	if !s.track(c) {
		_ = nc.Close()
		return
	}
	defer s.untrack(c)
	c.serve()
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Close ends every connection, telling MQTT 5 clients the server is
// shutting down (0x8B), and waits until they have ended. Their wills are
// published as for any connection that ends without a DISCONNECT, to the
// subscribers still connected (none, once all are closed).
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.disconnect(packet.ServerShuttingDown, errServerClosed)
	}
	s.wg.Wait()
	for _, ss := range sessions {
		ss.stopTimers()
	}
	return nil
}

var errServerClosed = errors.New("server closed")

// Publish sends a message originated by the server (events, replies) to
// the clients subscribed to topic whom MayDeliver allows, and keeps it if
// retain is set (an empty payload deletes the retained message).
func (s *Server) Publish(topic string, payload []byte, qos byte, retain bool) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := topictree.ValidTopicName(topic); err != nil {
		return err
	}
	m := &Message{Topic: topic, Payload: payload, QoS: min(qos, 1), Retain: retain}
	s.publish(m, nil)
	return nil
}

// PublishTo sends a message originated by the server to the client id
// alone, if its session subscribes to a filter matching topic and
// MayDeliver allows it; it reports whether it was delivered (or queued
// for the session).
func (s *Server) PublishTo(id, topic string, payload []byte, qos byte) bool {
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil {
		return false
	}
	bp := matches.Get().(*[]topictree.Subscriber[*session])
	defer func() { clear(*bp); *bp = (*bp)[:0]; matches.Put(bp) }()
	*bp = s.subs.Match(topic, (*bp)[:0])
	granted, found := byte(0), false
	for _, sub := range *bp {
		if sub.Value == ss {
			granted, found = max(granted, subOpts(sub.Opts).qos), true
		}
	}
	if !found {
		return false
	}
	m := &Message{Topic: topic, Payload: payload, QoS: min(qos, 1)}
	return s.deliver(ss, m, min(m.QoS, granted), false, nil)
}

// Retain keeps a retained message without routing it, unless one is kept
// on its topic already; it reports whether it kept it.
func (s *Server) Retain(topic string, payload []byte, qos byte) bool {
	if len(payload) == 0 || topictree.ValidTopicName(topic) != nil {
		return false
	}
	if _, ok := s.retained.Get(topic); ok {
		return false
	}
	s.retained.Set(topic, &Message{Topic: topic, Payload: payload, QoS: min(qos, 1), Retain: true})
	return true
}

// RetainedMessages calls f with every retained message.
func (s *Server) RetainedMessages(f func(m *Message) bool) {
	s.retained.All(func(_ string, m *Message) bool { return f(m) })
}

// Subscribed reports whether any session subscribes to a filter matching
// topic.
func (s *Server) Subscribed(topic string) bool { return s.subs.Has(topic) }

// Client returns the live client with id, if any.
func (s *Server) Client(id string) (*Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[id]
	if ss == nil {
		return nil, false
	}
	c := ss.live()
	if c == nil {
		return nil, false
	}
	return &c.client, true
}

func randomClientID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "auto-" + hex.EncodeToString(b[:])
}

// counters are the engine's statistics.
type counters struct {
	connections  atomic.Int64 // live, admitted
	inflight     atomic.Int64 // QoS 1 messages held by sessions
	received     atomic.Uint64
	sent         atomic.Uint64
	dropped      atomic.Uint64
	held         atomic.Uint64
	stalled      atomic.Uint64
	protocolErrs atomic.Uint64
}

// Stats are the engine's counters.
type Stats struct {
	Connections    int64  // admitted connections now
	Sessions       int    // sessions, live or persisting offline
	Subscriptions  int    // subscriptions of every session
	Retained       int    // retained messages
	Inflight       int64  // QoS 1 messages sessions hold: sent and unacknowledged, or waiting
	PacketsRead    uint64 // PUBLISH packets received
	PacketsSent    uint64 // PUBLISH packets written
	Dropped        uint64 // deliveries dropped (OnDropped)
	Held           uint64 // deliveries a publisher waited for (flow control)
	Stalled        uint64 // waits given up on: the subscriber took nothing for Options.StallTimeout
	ProtocolErrors uint64 // connections closed for a malformed packet or a protocol error
}

// Stats returns the engine's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.sessions)
	s.mu.Unlock()
	return Stats{
		Connections:    s.stats.connections.Load(),
		Sessions:       n,
		Subscriptions:  s.subs.Len(),
		Retained:       s.retained.Len(),
		Inflight:       s.stats.inflight.Load(),
		PacketsRead:    s.stats.received.Load(),
		PacketsSent:    s.stats.sent.Load(),
		Dropped:        s.stats.dropped.Load(),
		Held:           s.stats.held.Load(),
		Stalled:        s.stats.stalled.Load(),
		ProtocolErrors: s.stats.protocolErrs.Load(),
	}
}
