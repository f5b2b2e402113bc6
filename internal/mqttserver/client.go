package mqttserver

import (
	"net"
	"sync/atomic"
	"time"
)

// Client is what the Hooks see of one connection.
type Client struct {
	c       *conn
	id      string
	version byte
	value   atomic.Value
}

// ID is the client identifier the connection's CONNECT gave (or the one
// assigned to it).
func (cl *Client) ID() string { return cl.id }

// Version is the connection's protocol level (4: MQTT 3.1.1, 5: MQTT 5).
func (cl *Client) Version() byte { return cl.version }

// Conn is the connection the engine serves.
func (cl *Client) Conn() net.Conn { return cl.c.nc }

// RemoteAddr is the client's address.
func (cl *Client) RemoteAddr() net.Addr { return cl.c.nc.RemoteAddr() }

// SetValue keeps v with the client, for the Hooks; Value returns it.
func (cl *Client) SetValue(v any) { cl.value.Store(&v) }

// Value returns what SetValue kept, or nil.
func (cl *Client) Value() any {
	if p, ok := cl.value.Load().(*any); ok {
		return *p
	}
	return nil
}

// SetKeepAlive sets the keep-alive the server enforces, in seconds, in
// place of the one the client asked for; an MQTT 5 client is told in its
// CONNACK (Server Keep Alive) [MQTT-3.2.2-21]. Only OnConnect may call it.
func (cl *Client) SetKeepAlive(seconds uint16) {
	cl.c.keepAlive = seconds
	cl.c.serverKeepAlive = true
}

// KeepAlive is the keep-alive the server enforces, in seconds.
func (cl *Client) KeepAlive() time.Duration { return time.Duration(cl.c.keepAlive) * time.Second }

// Disconnect ends the connection from any goroutine: an admitted MQTT 5
// client is sent a DISCONNECT with code first. It does not wait.
func (cl *Client) Disconnect(code byte, cause error) { cl.c.disconnect(code, cause) }

// Done is closed when the connection has ended and the engine has
// finished with it.
func (cl *Client) Done() <-chan struct{} { return cl.c.done }
