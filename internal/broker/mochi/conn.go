package mochi

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/mqttserver"
)

// Listener names, as mochi records them on its clients (Client.Net.Listener).
const (
	listenerMQTT = "mqtts" // MQTT over mutual TLS
	listenerWSS  = "wss"   // MQTT over WebSocket over TLS: a client certificate or SigV4
)

// disconnectGrace bounds how long a disconnect (a kick, a session takeover,
// shutdown) may spend writing to a device that stopped reading.
const disconnectGrace = time.Second

// conn is one device connection: the net.Conn handed to mochi's
// EstablishConnection (a *tls.Conn, or a WebSocket over one), carrying what
// the hook needs, found again from mochi's client through Client.Net.Conn.
// One conn is one mochi Client is one broker.Session.
type conn struct {
	net.Conn
	raw      *rawConn            // the TCP connection under TLS
	b        *Broker             //
	tls      tls.ConnectionState // the peer's certificates, SNI, ALPN
	listener string              // listenerMQTT or listenerWSS
	// iamAccessKeyID is the access key that signed the WebSocket upgrade
	// of a connection without a client certificate (websocket.go).
	iamAccessKeyID string
	done           chan struct{} // closed when mochi has finished with the connection

	device atomic.Pointer[device] // set when the CONNECT has been read
	// client is the iotcore engine's client, set when the CONNECT has been
	// read (mochi's is device.client).
	client   atomic.Pointer[mqttserver.Client]
	admitted atomic.Bool // CONNACK success (being) sent
	kicked   atomic.Bool // the gate kicked it
	expired  atomic.Bool // a WebSocket connection that lived Config.WebSocketTTL
	ttl      atomic.Pointer[time.Timer]
	dead     atomic.Bool // we closed the transport: ignore what is still buffered
	slot     atomic.Bool // holds one of Config.MaxConnections

	// admittedAt is when (Unix nanoseconds) admitted was set.
	admittedAt atomic.Int64
	// moved is a persistent session fetched from another node of the
	// cluster, from the CONNECT until it is installed and its messages
	// resent (session.go).
	moved atomic.Pointer[SessionState]

	publishes publishLimiter // Config.PublishRate, inbound and outbound
	flow      flow           // flow control of the deliveries to it (flow.go)
	// publishing is set while the connection's goroutine delivers one of
	// the device's messages (OnPublish to OnPublished): it reads no PUBACK
	// meanwhile, so no delivery to it may wait for one (flow.go).
	publishing atomic.Bool
	// request is set from OnPublish to OnPublished for a PUBLISH to one of
	// Config.Requests' topics (request.go); only the connection's
	// goroutine touches it.
	request bool
	// requests counts the connection's requests being served (request.go).
	requests atomic.Int32

	// Acknowledgements held back while the connection's goroutine deals
	// with input already read (acks.go).
	processing atomic.Bool
	wmu        sync.Mutex
	acks       []byte
	acksHeld   atomic.Bool // len(acks) > 0

	deadline time.Time // the last deadline mochi set (deadline.go)

	// Checks of the packets the device sends (frames.go), on the
	// connection's goroutine only.
	frames   frameChecker
	frameErr error // a packet refused: the next read fails with it

	// Why the connection ended, for the gate's lifecycle event.
	clientDisconnected atomic.Bool // the device sent DISCONNECT
	takenOver          atomic.Bool // a newer connection took its client id
	endErr             atomic.Pointer[error]

	mu      sync.RWMutex
	state   sessionState
	session broker.Session

	subsMu  sync.Mutex
	pending map[*byte]bool  // subscribe decisions of the SUBSCRIBE being processed; see subscribe.go
	suback  *subackOverride // reason codes for that SUBSCRIBE's SUBACK, if mochi's are not ours

	endOnce sync.Once
}

// device is what a connection's CONNECT said, fixed once read.
type device struct {
	client  *mqtt.Client
	id      string
	version byte
}

type sessionState int

const (
	sessionPending sessionState = iota // CONNECT not yet admitted by the gate
	sessionLive                        // admitted: the session decides
	sessionEnded                       // the connection is over; the session is closed
)

func newConn(b *Broker, c net.Conn, raw *rawConn, state tls.ConnectionState, listener string) *conn {
	d := &conn{Conn: c, raw: raw, b: b, tls: state, listener: listener, done: make(chan struct{})}
	d.frames.maxSize = b.cfg.MaxPacketSize
	raw.owner.Store(d)
	return d
}

// connOf returns the conn of a mochi client, nil for mochi's inline client.
func connOf(cl *mqtt.Client) *conn {
	c, _ := cl.Net.Conn.(*conn)
	return c
}

// admit marks the connection admitted (its CONNACK success is being
// sent), once: counted, and a WebSocket connection's life limited.
func (c *conn) admit() {
	if c.admitted.CompareAndSwap(false, true) {
		c.admittedAt.Store(time.Now().UnixNano())
		c.b.stats.connections.Add(1)
		c.limitLife()
	}
}

// admittedBefore reports whether the connection was admitted before t.
func (c *conn) admittedBefore(t time.Time) bool {
	at := c.admittedAt.Load()
	return at != 0 && at < t.UnixNano()
}

func (c *conn) clientID() string {
	if d := c.device.Load(); d != nil {
		return d.id
	}
	return ""
}

// setSession makes s the connection's session. It fails if the connection
// was kicked or ended while the gate was deciding; the caller then closes s.
func (c *conn) setSession(s broker.Session) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != sessionPending || c.kicked.Load() {
		return false
	}
	c.session, c.state = s, sessionLive
	return true
}

// certificateID is the id of the session's certificate; "" before admission.
func (c *conn) certificateID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.state != sessionLive {
		return ""
	}
	return c.session.CertificateID()
}

// authorize asks the session; false before admission and after the end.
func (c *conn) authorize(action broker.Action, topic string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state == sessionLive && c.session.Authorize(action, topic)
}

// mayReceive decides iot:Receive for a delivery. After the connection has
// ended it lets mochi queue QoS 1 messages for the persistent session (QoS 0
// ones are dropped by mochi): the session that resumes it decides them
// again before anything is sent (see filterInflight).
func (c *conn) mayReceive(topic string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	switch c.state {
	case sessionLive:
		return c.session.Authorize(broker.Receive, topic)
	case sessionEnded:
		return true
	}
	return false
}

// end closes the session once the connection is over. No Authorize call is
// in progress or starts once it has begun. err is what ended the connection,
// if known.
func (c *conn) end(err error) {
	if err != nil {
		c.endErr.CompareAndSwap(nil, &err)
	}
	c.endOnce.Do(func() {
		if t := c.ttl.Load(); t != nil {
			t.Stop()
		}
		c.mu.Lock()
		s := c.session
		c.state, c.session = sessionEnded, nil
		c.mu.Unlock()
		if s != nil {
			s.Close(c.disconnectInfo())
		}
		if c.admitted.Load() {
			c.b.stats.connections.Add(-1)
		}
		if c.slot.Load() {
			c.b.slots.Add(-1)
		}
	})
}

// disconnectInfo says why the connection ended, in AWS's terms.
func (c *conn) disconnectInfo() broker.DisconnectInfo {
	var err error
	if p := c.endErr.Load(); p != nil {
		err = *p
	}
	var ne net.Error
	switch {
	case c.clientDisconnected.Load():
		return broker.DisconnectInfo{ClientInitiated: true, Reason: broker.ReasonClientDisconnect}
	case c.takenOver.Load():
		return broker.DisconnectInfo{Reason: broker.ReasonDuplicateClientID}
	case c.expired.Load():
		return broker.DisconnectInfo{Reason: broker.ReasonWebSocketTTL}
	case c.kicked.Load():
		return broker.DisconnectInfo{Reason: broker.ReasonServerDisconnect}
	case errors.Is(err, errEnginePanic):
		return broker.DisconnectInfo{Reason: broker.ReasonClientError}
	case errors.As(err, &ne) && ne.Timeout():
		return broker.DisconnectInfo{Reason: broker.ReasonKeepAliveTimeout}
	case errors.As(err, new(packets.Code)):
		return broker.DisconnectInfo{Reason: broker.ReasonClientError}
	}
	return broker.DisconnectInfo{Reason: broker.ReasonConnectionLost}
}

// kick is the function the gate receives: it disconnects the device, at
// once, from any goroutine, any number of times, even after it has gone.
func (c *conn) kick(reason string) {
	if reason == broker.KickTakenOver {
		c.takeOver()
		return
	}
	if !c.kicked.CompareAndSwap(false, true) {
		return
	}
	c.b.stats.kicked.Add(1)
	c.b.deviceLog("mqtt connection kicked", "client", c.clientID(), "remote", c.RemoteAddr().String(), "reason", reason)
	c.b.goTracked(func() { c.disconnect(packets.ErrNotAuthorized) })
}

// takeOver ends the connection for a newer one of its client id on another
// node of the cluster: DUPLICATE_CLIENTID, as mochi's own takeover on this
// node (MQTT 5: DISCONNECT 0x8E, session taken over).
func (c *conn) takeOver() {
	if !c.takenOver.CompareAndSwap(false, true) {
		return
	}
	c.b.deviceLog("mqtt connection taken over on another node", "client", c.clientID(), "remote", c.RemoteAddr().String())
	c.b.goTracked(func() { c.disconnect(packets.ErrSessionTakenOver) })
}

// limitLife closes a WebSocket connection once it has lived
// Config.WebSocketTTL, as AWS does after 24 hours (MQTT 5: DISCONNECT
// "maximum connect time").
func (c *conn) limitLife() {
	ttl := c.b.cfg.WebSocketTTL
	if c.listener != listenerWSS || ttl <= 0 {
		return
	}
	c.ttl.Store(time.AfterFunc(ttl, func() {
		if c.kicked.Load() || !c.expired.CompareAndSwap(false, true) {
			return
		}
		c.b.deviceLog("mqtt websocket connection expired", "client", c.clientID(), "remote", c.RemoteAddr().String(), "ttl", ttl)
		c.b.goTracked(func() { c.disconnect(packets.ErrMaxConnectTime) })
	}))
}

// disconnect ends the connection from outside its own goroutine: MQTT 5
// devices that have their CONNACK get a DISCONNECT with code first; others
// are closed [AWS 7.4]. Writes to a device that stopped reading give up
// after disconnectGrace.
func (c *conn) disconnect(code packets.Code) {
	c.raw.capDeadlines(time.Now().Add(disconnectGrace))
	if cl := c.client.Load(); cl != nil {
		cl.Disconnect(code.Code, code)
		return
	}
	if c.b.engine != nil {
		_ = c.raw.Close()
		return
	}
	d := c.device.Load()
	switch {
	case d == nil:
		_ = c.raw.Close()
	case d.version == 5 && c.admitted.Load():
		_ = c.b.server.DisconnectClient(d.client, code)
	default:
		d.client.Stop(code)
	}
}

// closeTransport closes the connection from its own goroutine, inside a
// hook: mochi's next read fails, and mochi then publishes the will and ends
// the session as for any broken connection. (Client.Stop would instead make
// mochi treat it as a clean DISCONNECT and discard the will.)
func (c *conn) closeTransport() {
	c.dead.Store(true)
	c.raw.capDeadlines(time.Now().Add(disconnectGrace))
	_ = c.Conn.Close()
}

// disconnectPacket is a server DISCONNECT with a reason code (MQTT 5 only).
func disconnectPacket(code packets.Code) packets.Packet {
	return packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Disconnect},
		ReasonCode:  code.Code,
	}
}
