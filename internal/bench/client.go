package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Defaults for Endpoint's zero values.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultKeepAlive = 60 * time.Second
)

// flushAt is how many bytes of PUBLISH and PUBACK packets a connection
// gathers before writing them in one go; Flush writes sooner.
const flushAt = 16 * 1024

// Endpoint is an MQTT over mutual TLS server and how to reach it. It holds
// no client identity: each connection brings its certificate.
type Endpoint struct {
	// Addr is the server's host:port.
	Addr string
	// RootCAs verify the server's certificate; nil means the system's roots.
	RootCAs *x509.CertPool
	// ServerName is the name the server's certificate must carry; "" means
	// Addr's host.
	ServerName string
	// Timeout bounds every wait on the server: the TCP connect, the TLS
	// handshake, the CONNACK, a SUBACK, a PUBACK, a PINGRESP and each write.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// KeepAlive is the keep-alive a CONNECT asks for (whole seconds; AWS IoT
	// holds it between 30 s and 20 min). Zero means DefaultKeepAlive.
	KeepAlive time.Duration

	// The path devices take (devicepath.go). KeyExchange is the groups the
	// clients offer; "" means KeyExchangeGo.
	KeyExchange KeyExchange
	// LeafOnly presents the device certificate alone, without the CA
	// certificates that follow it in its chain.
	LeafOnly bool
	// PacketPerRecord writes each MQTT packet as a TLS record of its own,
	// as device SDKs do, instead of gathering them up to 16 KiB.
	PacketPerRecord bool

	seen *handshakes // what the run's handshakes negotiated; nil: not recorded
}

func (e Endpoint) timeout() time.Duration {
	if e.Timeout <= 0 {
		return DefaultTimeout
	}
	return e.Timeout
}

func (e Endpoint) keepAlive() uint16 {
	if e.KeepAlive <= 0 {
		return uint16(DefaultKeepAlive / time.Second)
	}
	return uint16(min(e.KeepAlive/time.Second, 65535))
}

// TLSConfig is the client configuration of a device presenting cert (its
// chain and key). It keeps no session cache: every connection does a full
// handshake with the client certificate, as a device's first one does.
func (e Endpoint) TLSConfig(cert tls.Certificate) *tls.Config {
	if e.LeafOnly && len(cert.Certificate) > 1 {
		cert.Certificate = cert.Certificate[:1]
	}
	return &tls.Config{
		RootCAs:          e.RootCAs,
		ServerName:       e.ServerName,
		Certificates:     []tls.Certificate{cert},
		MinVersion:       tls.VersionTLS12,
		CurvePreferences: e.KeyExchange.curves(),
	}
}

// Conn is an MQTT 3.1.1 client connection over TLS, without goroutines of
// its own. One goroutine may read (ReadPacket, Await) while another
// writes (Publish, Puback, Flush); the handshake methods (Connect,
// Subscribe, Ping) read and write and must have the connection to
// themselves. Close may be called from anywhere.
type Conn struct {
	nc        net.Conn
	r         *bufio.Reader
	rbuf      []byte
	wbuf      []byte
	timeout   time.Duration
	keepalive uint16
	flushAt   int       // bytes gathered before a write: flushAt, or 1 for a record per packet
	sent      time.Time // when Flush last wrote, for the keep-alive; the writer's
}

// Dial opens TCP and does the TLS handshake with tlsConfig (see
// Endpoint.TLSConfig). With TLS 1.3 the server judges the client
// certificate after the client's handshake is over: a server that refuses
// it is seen by the first read, as a dropped connection.
func Dial(ctx context.Context, e Endpoint, tlsConfig *tls.Config) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return nil, &tcpError{err}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig = tlsConfig.Clone()
		if tlsConfig.ServerName, _, err = net.SplitHostPort(e.Addr); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("dial: %w", err)
		}
	}
	tc := tls.Client(nc, tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, &handshakeError{err}
	}
	chain := 0
	if len(tlsConfig.Certificates) > 0 {
		chain = len(tlsConfig.Certificates[0].Certificate)
	}
	e.seen.record(tc.ConnectionState(), chain)
	c := &Conn{nc: tc, r: bufio.NewReaderSize(tc, 32*1024), timeout: e.timeout(), keepalive: e.keepAlive(), flushAt: flushAt}
	if e.PacketPerRecord {
		c.flushAt = 1
	}
	return c, nil
}

// tcpError is a failed TCP connect.
type tcpError struct{ err error }

func (e *tcpError) Error() string { return "tcp connect: " + e.err.Error() }
func (e *tcpError) Unwrap() error { return e.err }

// handshakeError is a failed TLS handshake.
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "tls handshake: " + e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }

// ErrDropped is a connection the server closed before its CONNACK: what
// AWS IoT and iotcore do to a device's first, provisioning, connection, or
// to a certificate they do not accept.
var ErrDropped = errors.New("connection closed before CONNACK")

// RefusedError is a CONNACK with a non-zero return code [MQTT-3.2.2.3].
type RefusedError struct{ Code byte }

func (e *RefusedError) Error() string {
	names := map[byte]string{
		1: "unacceptable protocol version", 2: "identifier rejected", 3: "server unavailable",
		4: "bad user name or password", 5: "not authorized",
	}
	if n, ok := names[e.Code]; ok {
		return fmt.Sprintf("CONNACK refused: %s (%d)", n, e.Code)
	}
	return fmt.Sprintf("CONNACK refused: return code %d", e.Code)
}

// Connect sends a clean-session CONNECT as clientID, with the endpoint's
// keep-alive, and waits for the CONNACK: nil if accepted, a *RefusedError if
// refused, an error wrapping ErrDropped if the server closed the connection
// first.
func (c *Conn) Connect(clientID string) error {
	pk, err := encodeConnect(clientID, c.keepalive)
	if err != nil {
		return err
	}
	c.wbuf = append(c.wbuf, pk...)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("%w: send CONNECT: %w", ErrDropped, err)
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	defer c.nc.SetReadDeadline(time.Time{}) // what follows reads without one
	p, err := readPacket(c.r, &c.rbuf)
	switch {
	case isTimeout(err):
		return fmt.Errorf("wait for CONNACK: %w", err)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrDropped, err)
	case p.Type != packets.Connack:
		return fmt.Errorf("%w: got %s before CONNACK", errMalformed, packets.PacketNames[p.Type]) // [MQTT-3.2.0-1]
	case p.ReturnCode != 0:
		return &RefusedError{Code: p.ReturnCode}
	}
	return nil
}

// Subscribe subscribes to one filter and returns the SUBACK's return code:
// the granted QoS, or 0x80 for a refusal [MQTT-3.9.3].
func (c *Conn) Subscribe(id uint16, filter string, qos byte) (byte, error) {
	pk, err := encodeSubscribe(id, filter, qos)
	if err != nil {
		return 0, err
	}
	c.wbuf = append(c.wbuf, pk...)
	if err := c.Flush(); err != nil {
		return 0, fmt.Errorf("send SUBSCRIBE: %w", err)
	}
	p, err := c.Await(packets.Suback, id)
	if err != nil {
		return 0, err
	}
	if len(p.Codes) != 1 {
		return 0, fmt.Errorf("%w: SUBACK with %d return codes for one filter", errMalformed, len(p.Codes))
	}
	return p.Codes[0], nil
}

// Publish buffers a PUBLISH (id is ignored at QoS 0), writing the buffer
// when it is full; Flush sends the rest.
func (c *Conn) Publish(topic string, qos byte, id uint16, payload []byte) error {
	c.wbuf = appendPublish(c.wbuf, topic, qos, id, payload)
	if len(c.wbuf) >= c.flushLimit() {
		return c.Flush()
	}
	return nil
}

// Puback buffers the acknowledgement of a QoS 1 PUBLISH.
func (c *Conn) Puback(id uint16) error {
	c.wbuf = appendPuback(c.wbuf, id)
	if len(c.wbuf) >= c.flushLimit() {
		return c.Flush()
	}
	return nil
}

// flushLimit is how many bytes Publish and Puback gather before writing.
func (c *Conn) flushLimit() int {
	if c.flushAt <= 0 {
		return flushAt
	}
	return c.flushAt
}

// Buffered is how many bytes wait for Flush.
func (c *Conn) Buffered() int { return len(c.wbuf) }

// Flush writes what is buffered.
func (c *Conn) Flush() error {
	if len(c.wbuf) == 0 {
		return nil
	}
	c.sent = time.Now()
	_ = c.nc.SetWriteDeadline(c.sent.Add(c.timeout))
	_, err := c.nc.Write(c.wbuf)
	c.wbuf = c.wbuf[:0]
	return err
}

// Ping sends a PINGREQ without waiting for the PINGRESP [MQTT-3.12.4-1].
func (c *Conn) Ping() error {
	c.wbuf = append(c.wbuf, pingreqPacket...)
	return c.Flush()
}

// ReadPacket reads the next packet, waiting until the deadline set with
// SetReadDeadline (none by default).
func (c *Conn) ReadPacket() (Packet, error) { return readPacket(c.r, &c.rbuf) }

// ReadBuffered reports whether a packet, or part of one, has been read
// from the network and not yet returned by ReadPacket.
func (c *Conn) ReadBuffered() bool { return c.r.Buffered() > 0 }

// Await reads packets until one of type typ with packet identifier id
// (ignored for types that carry none), within the endpoint's timeout,
// skipping others.
func (c *Conn) Await(typ byte, id uint16) (Packet, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		p, err := readPacket(c.r, &c.rbuf)
		if err != nil {
			return p, fmt.Errorf("wait for %s: %w", packets.PacketNames[typ], err)
		}
		if p.Type == typ && (p.ID == id || typ == packets.Pingresp) {
			return p, nil
		}
	}
}

// SetReadDeadline bounds ReadPacket; it may be called from any goroutine,
// and a deadline in the past ends a blocked read at once.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// Disconnect sends DISCONNECT [MQTT-3.14] and closes the connection.
func (c *Conn) Disconnect() error {
	c.wbuf = append(c.wbuf, disconnectPacket...)
	err := c.Flush()
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the connection without DISCONNECT.
func (c *Conn) Close() error { return c.nc.Close() }

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
