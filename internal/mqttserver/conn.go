package mqttserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// conn is one client connection, served by one goroutine (serve) that
// reads and handles its packets in order. What goes out is queued
// (write.go).
type conn struct {
	s      *Server
	nc     net.Conn
	client Client
	done   chan struct{} // closed when serve has returned

	// Fixed at the CONNECT.
	version         byte
	keepAlive       uint16 // seconds; 0: none
	serverKeepAlive bool   // keepAlive is the server's, not the client's
	sendWindow      int    // QoS 1 deliveries unacknowledged at most
	maxOut          int    // the client's Maximum Packet Size; 0: none

	// Only serve's goroutine touches these.
	sess     *session
	imported *SessionState // a session from another server (Client.Import)
	will     *packet.Will
	aliases  []string    // inbound topic aliases, by alias - 1; grown on use
	armedAt  time.Time   // when the keep-alive's read deadline was last set
	chunks   chunkReader // reading by records, when chunks.raw is set (chunks.go)
	hdr      [packet.MaxHeaderSize]byte

	ended       bool // end has run (serve's goroutine only)
	admitted    atomic.Bool
	publishing  atomic.Bool // serve's goroutine is handling a PUBLISH (flow control)
	normalClose atomic.Bool // a DISCONNECT that keeps the will unpublished

	// Output (write.go).
	wmu     sync.Mutex
	out     []outItem     // waiting to be written
	spare   []outItem     // the writer's other buffer
	writing bool          // a writer is at work
	closing bool          // nothing more is accepted
	room    chan struct{} // closed when the queue has room; see waitRoom
	// stalled is set when a publisher gave up waiting for room, and
	// cleared by the next write that completes: until then, no one waits.
	stalled atomic.Bool
	// writerIdle is closed when the writer stops; see waitWriter.
	writerIdle chan struct{}

	endOnce sync.Once
	endErr  atomic.Pointer[error] // why the connection ended, if the engine ended it
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, done: make(chan struct{})}
	c.client.c = c
	c.chunks.rc, c.chunks.raw = readiness(nc)
	return c
}

// Errors a connection ends with.
var (
	errNotConnect = errors.New("first packet is not CONNECT")
	errKeepAlive  = errors.New("keep-alive timeout")
	// ErrKeepAlive is what a connection silent past its keep-alive ends
	// with.
	ErrKeepAlive   = errKeepAlive
	errTakenOver   = errors.New("session taken over")
	errPublishDeny = errors.New("publish not authorized")
)

// serve reads the CONNECT, admits the client and serves it until the
// connection ends.
func (c *conn) serve() {
	defer close(c.done)
	defer c.nc.Close()
	defer c.recoverPanic()
	pk, err := c.readConnect()
	if err != nil {
		c.refuseConnect(pk, err)
		return
	}
	if !c.admit(pk) {
		return
	}
	err = c.readLoop()
	c.end(err)
}

// ErrPanic wraps a panic recovered on a connection's goroutine (in a hook,
// or in the engine): the connection ends with it, and the process goes on.
var ErrPanic = errors.New("mqttserver: panic")

// recoverPanic ends the connection whose goroutine panicked as any other
// that breaks: its will, its session, OnDisconnect.
func (c *conn) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	err := fmt.Errorf("%w: %v\n%s", ErrPanic, r, debug.Stack())
	_ = c.nc.Close()
	if c.admitted.Load() && !c.ended {
		c.end(err)
	}
}

// readConnect reads the first packet, which must be a CONNECT
// [MQTT-3.1.0-1].
func (c *conn) readConnect() (*packet.Connect, error) {
	h, body, err := c.readPacket()
	if err != nil {
		return nil, err
	}
	if h.Type != packet.CONNECT {
		return nil, fmt.Errorf("%w: %s", errNotConnect, h.Type)
	}
	return packet.DecodeConnect(body)
}

// refuseConnect answers a CONNECT that could not be read: with a CONNACK
// where the client's version is known and the code is one a CONNACK
// carries [MQTT-3.1.4-1] [MQTT-3.2.2-6]; otherwise by closing.
func (c *conn) refuseConnect(pk *packet.Connect, err error) {
	var pe *packet.Error
	if !errors.As(err, &pe) {
		return // the connection failed, or timed out
	}
	c.s.stats.protocolErrs.Add(1)
	if pk == nil {
		c.s.hooks.OnConnectRefused(&c.client, nil, err)
		return // no version to answer in
	}
	c.version = pk.Version
	c.client.id, c.client.version = pk.ClientID, pk.Version
	c.refuse(pk, pe.Code, err)
}

// writeNow writes b at once, on this goroutine, bounded by a deadline:
// for packets written before the client is admitted.
func (c *conn) writeNow(b []byte) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(disconnectGrace))
	_, _ = c.nc.Write(b)
}

// disconnectGrace bounds the writing of a last packet to a client that
// may have stopped reading.
const disconnectGrace = time.Second

// connackCode311 maps an MQTT 5 CONNACK reason code to an MQTT 3.1.1
// return code (MQTT 3.1.1 §3.2.2.3).
func connackCode311(code byte) byte {
	switch code {
	case packet.Success:
		return packet.ReturnAccepted
	case packet.UnsupportedProtocolVersion:
		return packet.ReturnUnacceptableVersion
	case packet.ClientIDNotValid:
		return packet.ReturnIdentifierRejected
	case packet.BadUsernameOrPassword:
		return packet.ReturnBadUsernameOrPasswd
	case packet.NotAuthorized:
		return packet.ReturnNotAuthorized
	}
	return packet.ReturnServerUnavailable
}

// readPacket reads one packet: its fixed header, a byte at a time, then
// its body into a buffer of its own. The goroutine parks in the first
// Read with nothing of its own on the heap, and a shallow stack.
func (c *conn) readPacket() (packet.Header, []byte, error) {
	if c.chunks.raw != nil {
		h, body, err := c.nextChunk()
		if err != nil {
			return h, nil, c.readError(err)
		}
		if c.admitted.Load() {
			c.keepAliveRead(time.Now())
		}
		return h, body, nil
	}
	var h packet.Header
	n := 0
	for {
		if err := c.readFull(c.hdr[n : n+1]); err != nil {
			return h, nil, err
		}
		n++
		var m int
		var err error
		h, m, err = packet.ParseHeader(c.hdr[:n], c.s.opts.MaxPacketSize)
		if err != nil {
			return h, nil, err
		}
		if m > 0 {
			break
		}
	}
	if c.admitted.Load() {
		c.keepAliveRead(time.Now())
	}
	if h.Length == 0 {
		return h, nil, nil
	}
	body := make([]byte, h.Length)
	if err := c.readFull(body); err != nil {
		return h, nil, err
	}
	return h, body, nil
}

// readFull reads len(b) bytes. A read deadline that passes ends the
// connection: the keep-alive's (see keepAliveRead), or the caller's until
// the CONNECT is read.
func (c *conn) readFull(b []byte) error {
	for len(b) > 0 {
		n, err := c.nc.Read(b)
		b = b[n:]
		if err != nil {
			return c.readError(err)
		}
	}
	return nil
}

// readError is the error a read ended with, a keep-alive timeout said so.
func (c *conn) readError(err error) error {
	var ne net.Error
	if c.keepAlive > 0 && c.admitted.Load() && errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %w", errKeepAlive, err)
	}
	return err
}

// keepAliveRead notes that a packet arrived at now, and moves the read
// deadline on when it is due: the server closes a connection silent for
// 1.5 times its keep-alive [MQTT-3.1.2-24], and moving the deadline once
// per quarter keep-alive instead of once per packet lets it close one
// silent for up to 1.75 times.
func (c *conn) keepAliveRead(now time.Time) {
	if c.keepAlive == 0 {
		return
	}
	k := time.Duration(c.keepAlive) * time.Second
	if now.Sub(c.armedAt) < k/4 {
		return
	}
	c.armedAt = now
	_ = c.nc.SetReadDeadline(now.Add(k*3/2 + k/4))
}

// readLoop reads and handles packets until the connection ends. It
// returns nil after a DISCONNECT.
func (c *conn) readLoop() error {
	for {
		h, body, err := c.readPacket()
		if err != nil {
			return err
		}
		done, err := c.handle(h, body)
		c.flushOwn()
		if done || err != nil {
			return err
		}
	}
}

// handle handles one packet; done is set by a DISCONNECT.
func (c *conn) handle(h packet.Header, body []byte) (done bool, err error) {
	switch h.Type {
	case packet.PUBLISH:
		pk, err := packet.DecodePublish(h.Flags, body, c.version)
		if err != nil {
			return false, err
		}
		return false, c.handlePublish(pk)
	case packet.PUBACK:
		a, err := packet.DecodeAck(h.Type, body, c.version)
		if err != nil {
			return false, err
		}
		c.sess.acked(a.PacketID)
		return false, nil
	case packet.SUBSCRIBE:
		pk, err := packet.DecodeSubscribe(body, c.version)
		if err != nil {
			return false, err
		}
		return false, c.handleSubscribe(pk)
	case packet.UNSUBSCRIBE:
		pk, err := packet.DecodeUnsubscribe(body, c.version)
		if err != nil {
			return false, err
		}
		c.handleUnsubscribe(pk)
		return false, nil
	case packet.PINGREQ:
		if h.Length != 0 {
			return false, &packet.Error{Code: packet.MalformedPacket, Msg: "PINGREQ with a body"}
		}
		c.send(outItem{typ: packet.PINGRESP}, true)
		return false, nil
	case packet.DISCONNECT:
		d, err := packet.DecodeDisconnect(body, c.version)
		if err != nil {
			return false, err
		}
		if d.Props.Has(packet.PropSessionExpiry) && d.Props.SessionExpiry > 0 && c.sess.expiry() == 0 {
			return false, errExpiryOnDisconnect
		}
		c.handleDisconnect(d)
		return true, nil
	case packet.AUTH:
		// No enhanced authentication is ever started, so an AUTH is a
		// protocol error [MQTT-4.12.0-2] (without a method: §3.15.2.2.2).
		return false, &packet.Error{Code: packet.ProtocolError, Msg: "AUTH without enhanced authentication"}
	case packet.CONNECT:
		return false, &packet.Error{Code: packet.ProtocolError, Msg: "second CONNECT"} // [MQTT-3.1.0-2]
	case packet.PUBREC, packet.PUBREL, packet.PUBCOMP:
		// QoS 2 is never granted or accepted, so there is no QoS 2 flow
		// for these to belong to.
		return false, &packet.Error{Code: packet.ProtocolError, Msg: h.Type.String() + " without QoS 2"}
	}
	return false, &packet.Error{Code: packet.ProtocolError, Msg: h.Type.String() + " from a client"}
}

// handleDisconnect keeps the will unpublished unless an MQTT 5 client
// asks for it (0x04) [MQTT-3.14.4-3], and takes a new session expiry
// [MQTT-3.14.2-2].
func (c *conn) handleDisconnect(d *packet.Disconnect) {
	if d.Code != packet.DisconnectWithWill {
		c.normalClose.Store(true)
	}
	if d.Props.Has(packet.PropSessionExpiry) {
		c.sess.setExpiry(min(d.Props.SessionExpiry, c.s.opts.MaxSessionExpiry))
	}
}

// errExpiryOnDisconnect: a DISCONNECT may not give a session that was to
// end with its connection a life after it [MQTT-3.14.2-2].
var errExpiryOnDisconnect = &packet.Error{Code: packet.ProtocolError, Msg: "DISCONNECT sets a session expiry where CONNECT set 0"}

// disconnect ends the connection from any goroutine: an admitted MQTT 5
// client gets a DISCONNECT with code first [MQTT-4.13.2-1] (a DISCONNECT
// may not precede the CONNACK [MQTT-3.14.0-1]).
func (c *conn) disconnect(code byte, cause error) {
	c.endOnce.Do(func() {
		c.endErr.Store(&cause)
		// The writer at work, if any, stops after its batch, which a client
		// that stopped reading cannot hold up for long.
		_ = c.nc.SetWriteDeadline(time.Now().Add(disconnectGrace))
		c.wmu.Lock()
		c.closing = true
		c.wmu.Unlock()
		// admitted is set after version: read in this order, no race.
		if c.admitted.Load() && c.version == packet.Version5 {
			c.waitWriter()
			c.writeNow((&packet.Disconnect{Code: code}).Append(nil, c.version))
		}
		_ = c.nc.SetDeadline(time.Now())
		_ = c.nc.Close()
	})
}

// protocolFailure ends a connection whose packet was refused: counted, and
// an MQTT 5 client is told why [MQTT-4.13.1-1].
func (c *conn) protocolFailure(err error) {
	var pe *packet.Error
	if !errors.As(err, &pe) {
		return
	}
	c.s.stats.protocolErrs.Add(1)
	c.disconnect(pe.Code, err)
}

// end tidies up after the read loop: the will, the session, the hooks.
func (c *conn) end(err error) {
	c.ended = true
	if e := c.endErr.Load(); e != nil && *e != nil {
		err = *e
	} else if err != nil {
		c.protocolFailure(err)
	}
	if errors.Is(err, io.EOF) && !c.normalClose.Load() {
		err = fmt.Errorf("connection closed without DISCONNECT: %w", err)
	}
	c.wmu.Lock()
	c.closing = true
	c.wmu.Unlock()
	_ = c.nc.Close()
	c.waitWriter()
	c.s.stats.connections.Add(-1)
	takenOver := errors.Is(err, errTakenOver)
	c.s.detach(c, takenOver)
	// A taken-over connection's will is published too, unless it has a
	// delay and the new connection resumes the session first [MQTT-3.1.3-9].
	if !c.normalClose.Load() && c.will != nil {
		c.s.willAfter(c, c.will)
	}
	if c.normalClose.Load() {
		err = nil
	}
	c.s.hooks.OnDisconnect(&c.client, err)
}
