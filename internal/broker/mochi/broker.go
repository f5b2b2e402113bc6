package mochi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/loglimit"
	"github.com/iotcore/iotcore/internal/mqttserver"
)

// Defaults for the zero values of Config.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultConnectTimeout   = 10 * time.Second
	// DefaultMaxPacketSize is AWS IoT Core's message size limit, 128 KiB,
	// applied to whole MQTT packets (payload, topic and properties).
	DefaultMaxPacketSize = 128 * 1024
	// DefaultOutboundQueue is 2.5 seconds of AWS's per-connection limit of
	// 100 publishes per second: a device that stops reading for longer (and
	// for StallTimeout, see flow.go) loses messages, counted in
	// Stats.Dropped, rather than the broker's memory. mochi allocates the
	// whole queue for every connection, 8 bytes a packet, idle or not: at
	// 1000 it was an eighth of an idle connection's memory.
	DefaultOutboundQueue = 256
	// DefaultStallTimeout is how long a subscriber may take nothing (no
	// write completes, no PUBACK arrives) before it stops holding its
	// publishers back (flow.go).
	DefaultStallTimeout = time.Second
)

// shutdownGrace bounds how long Serve, once its context ends, spends telling
// MQTT 5 devices the server is shutting down.
const shutdownGrace = time.Second

// Config configures a Broker. Zero values take the documented defaults.
type Config struct {
	// Addr is the MQTT over mutual TLS listen address, such as ":8883" or
	// "127.0.0.1:0". Required.
	Addr string
	// WebSocketAddr is the MQTT over WebSocket over TLS listen address
	// (path /mqtt, subprotocol mqtt); "" serves none. Clients authenticate
	// with a client certificate or, with WebSocketAuth, a SigV4-presigned URL.
	WebSocketAddr string
	// WebSocketAuth checks the signed URL of a WebSocket upgrade without a
	// client certificate; nil refuses every such upgrade (403).
	WebSocketAuth WebSocketAuthenticator
	// Certificate is the server certificate, with its chain and key. Required.
	Certificate tls.Certificate
	// Gate admits connections and decides every action. Required.
	Gate broker.Gate
	// Logger receives the broker's logs; nil discards them.
	Logger *slog.Logger

	// Limits bound what devices may do and how long they may take; their
	// zero values are AWS IoT Core's (limits.go).
	Limits

	// Requests serves the request topics of AWS's device APIs (fleet
	// provisioning); nil serves none. A request goes to no subscriber, and
	// its answer only to the connection that asked (request.go).
	Requests broker.RequestHandler

	// Rules sees every message that reaches the broker: devices' publishes
	// once acknowledged, Basic Ingest messages ($aws/rules/<rule>/..., which
	// go to no subscriber) and the server's own (events, iot-data
	// publishes); nil runs no rules (rules.go).
	Rules Rules
	// Cluster receives every message this broker accepts (devices', the
	// server's, the rules engine's) for the other nodes of a cluster;
	// nil: no cluster (cluster.go).
	Cluster Cluster
	// GetCertificate, when set, chooses the server certificate of a TLS
	// handshake by its server name (custom domains); nil, or a nil
	// certificate, means Certificate. An error ends the handshake.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// Sessions finds the persistent session of a connecting device on the
	// other nodes of a cluster, when this node holds none; nil: no cluster
	// (session.go).
	Sessions SessionSource

	// Now is the clock of the rate limits; nil means time.Now.
	Now func() time.Time

	// Engine is the MQTT engine: EngineIotcore or EngineMochi; "" means
	// DefaultEngine.
	Engine string
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Addr == "":
		return c, errors.New("no listen address")
	case len(c.Certificate.Certificate) == 0 || c.Certificate.PrivateKey == nil:
		return c, errors.New("no server certificate")
	case c.Gate == nil:
		return c, errors.New("no gate")
	case c.MaxPacketSize < 0 || c.OutboundQueue < 0 || c.HandshakeTimeout < 0 || c.ConnectTimeout < 0:
		return c, errors.New("negative limit")
	case c.Engine != "" && c.Engine != EngineMochi && c.Engine != EngineIotcore:
		return c, fmt.Errorf("unknown mqtt engine %q (%s or %s)", c.Engine, EngineIotcore, EngineMochi)
	}
	if c.Engine == "" {
		c.Engine = DefaultEngine
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = DefaultMaxPacketSize
	}
	if c.OutboundQueue == 0 {
		c.OutboundQueue = DefaultOutboundQueue
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	if err := c.limitsWithDefaults(); err != nil {
		return c, err
	}
	return c, nil
}

// Broker is the MQTT data plane: it accepts device connections over TLS
// (and WebSocket), and runs them in mochi with every connection, publish,
// subscribe and delivery decided by the Gate.
type Broker struct {
	cfg      Config
	log      *slog.Logger
	tls      *tls.Config
	server   *mqtt.Server       // EngineMochi's; nil with EngineIotcore
	engine   *mqttserver.Server // EngineIotcore's; nil with EngineMochi
	ln       net.Listener       // MQTT over TLS
	ws       *http.Server       // MQTT over WebSocket, nil if off
	wsLn     net.Listener
	stats    counters
	flow     flowLimits
	logLimit loglimit.Limiter
	connects *connectLimiter // CONNECTs per client id
	slots    atomic.Int64    // connections counted against MaxConnections
	closed   atomic.Bool     // Serve has returned
	replies  replies         // answers to requests (request.go)

	// ctx is the parent of every connection's contexts (TLS handshake, gate
	// decisions); it ends when Serve's context does.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	serving bool
	closing bool                  // no new goroutines; see goTracked
	raws    map[*rawConn]struct{} // every accepted connection not yet closed
	wg      sync.WaitGroup        // every goroutine the broker started
}

// Open binds the listeners (so that Addr and WebSocketAddr are known, for
// ":0") and prepares the broker. Serve then serves, and closes everything
// when its context ends; Close releases a broker that is not served.
func Open(cfg Config) (*Broker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open mqtt broker: %w", err)
	}
	b := &Broker{
		cfg:      cfg,
		log:      cfg.Logger,
		tls:      newTLSConfig(cfg.Certificate, cfg.GetCertificate),
		flow:     newFlowLimits(cfg.OutboundQueue, cfg.StallTimeout),
		raws:     make(map[*rawConn]struct{}),
		connects: newConnectLimiter(cfg.ConnectRate, cfg.ConnectBurst),
	}
	b.logLimit.Rate, b.logLimit.Burst = deviceLogRate, deviceLogBurst
	cfg.warnFDLimit()
	if cfg.Engine == EngineIotcore {
		b.engine = b.newIotcoreEngine()
	} else {
		b.server = newServer(cfg, b.log)
		if err := b.server.AddHook(&hook{b: b}, nil); err != nil {
			return nil, fmt.Errorf("open mqtt broker: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("open mqtt broker: %w", err)
	}
	b.ln = newTrackingListener(b, ln, listenerMQTT)
	if cfg.WebSocketAddr != "" {
		wl, err := net.Listen("tcp", cfg.WebSocketAddr)
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("open mqtt broker: websocket: %w", err)
		}
		b.wsLn = tls.NewListener(newTrackingListener(b, wl, listenerWSS), b.webSocketTLSConfig())
		b.ws = b.newWebSocketServer()
	}
	return b, nil
}

// Addr is the MQTT over TLS listen address.
func (b *Broker) Addr() net.Addr { return b.ln.Addr() }

// WebSocketAddr is the MQTT over WebSocket listen address, nil if off.
func (b *Broker) WebSocketAddr() net.Addr {
	if b.wsLn == nil {
		return nil
	}
	return b.wsLn.Addr()
}

// Serve serves until ctx ends, then closes the listeners and every
// connection (MQTT 5 devices are told 0x8B server shutting down; a device
// that stopped reading delays that by at most a second) and returns once
// every connection has ended and every goroutine it started has finished.
// It cannot hang on half-open connections, in the TLS handshake or before
// CONNECT: it ends them itself rather than through mochi's Server.Close.
func (b *Broker) Serve(ctx context.Context) error {
	b.mu.Lock()
	if b.serving {
		b.mu.Unlock()
		return errors.New("serve mqtt broker: already served or closed")
	}
	b.serving = true
	b.ctx, b.cancel = context.WithCancel(ctx)
	b.mu.Unlock()

	if b.server != nil {
		if err := b.server.Serve(); err != nil { // mochi's housekeeping; it has no listeners
			b.shutdown()
			return fmt.Errorf("serve mqtt broker: %w", err)
		}
	}
	b.goTracked(func() { b.acceptMQTT(b.ln) })
	if b.ws != nil {
		b.goTracked(func() {
			err := b.ws.Serve(b.wsLn)
			if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				b.log.Error("mqtt websocket listener failed", "error", err)
			}
		})
	}
	b.log.Info("mqtt broker serving", "addr", b.Addr().String(), "websocket", b.WebSocketAddr())
	<-b.ctx.Done()
	b.shutdown()
	return nil
}

// Close ends the broker. Before Serve, it releases the listeners (and Serve
// then fails); while Serve runs, it makes Serve return as the end of its
// context would, without waiting; after, it does nothing.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.serving {
		cancel := b.cancel
		b.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		return nil
	}
	b.serving, b.closing = true, true
	b.mu.Unlock()
	b.closed.Store(true)
	err := b.ln.Close()
	if b.wsLn != nil {
		err = errors.Join(err, b.wsLn.Close())
	}
	b.closeEngine()
	return err
}

// closeEngine stops the engine's own work (mochi's housekeeping loop and
// hooks; the iotcore engine's session timers) once its clients are gone.
func (b *Broker) closeEngine() {
	if b.engine != nil {
		_ = b.engine.Close()
		return
	}
	_ = b.server.Close()
}

// shutdown stops accepting, ends every connection and waits for every
// goroutine.
func (b *Broker) shutdown() {
	b.mu.Lock()
	b.closing = true
	raws := make([]*rawConn, 0, len(b.raws))
	for r := range b.raws {
		raws = append(raws, r)
	}
	b.mu.Unlock()

	_ = b.ln.Close()
	if b.ws != nil {
		_ = b.ws.Close() // its listener, and connections not upgraded yet
	}
	b.cancel() // handshakes and gate decisions in progress

	deadline := time.Now().Add(shutdownGrace)
	for _, r := range raws {
		r.capDeadlines(deadline)
	}
	// At once, so that a device that stopped reading delays no other's
	// DISCONNECT beyond the deadline.
	var told sync.WaitGroup
	for _, r := range raws {
		if c := r.owner.Load(); c != nil {
			told.Go(func() { c.disconnect(packets.ErrServerShuttingDown) })
		} else {
			_ = r.Close()
		}
	}
	told.Wait()
	b.wg.Wait()
	b.closed.Store(true)
	b.closeEngine()
	b.log.Info("mqtt broker stopped")
}

// goTracked runs f in a goroutine Serve waits for, unless the broker is
// shutting down.
func (b *Broker) goTracked(f func()) bool {
	if !b.enter() {
		return false
	}
	go func() {
		defer b.wg.Done()
		f()
	}()
	return true
}

// enter counts the calling goroutine in the broker's wait group, unless the
// broker is shutting down; the caller calls b.wg.Done.
func (b *Broker) enter() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return false
	}
	b.wg.Add(1)
	return true
}

// track registers an accepted connection; false once shutting down.
func (b *Broker) track(r *rawConn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return false
	}
	b.raws[r] = struct{}{}
	return true
}

func (b *Broker) untrack(r *rawConn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.raws, r)
}
