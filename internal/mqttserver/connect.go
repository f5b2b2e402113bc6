package mqttserver

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// admit decides a CONNECT and, when the hooks admit it, attaches the
// client to its session and sends the CONNACK. It reports whether the
// connection goes on.
func (c *conn) admit(pk *packet.Connect) bool {
	c.version = pk.Version
	c.keepAlive = pk.KeepAlive
	opts := &c.s.opts
	assigned := false
	if pk.ClientID == "" {
		// An empty client id: MQTT 3.1.1 allows it only for a clean
		// session [MQTT-3.1.3-7] [MQTT-3.1.3-8]; the server assigns one
		// [MQTT-3.1.3-6] (MQTT 5: and says which [MQTT-3.2.2-16]).
		if pk.Version < packet.Version5 && !pk.Clean {
			c.refuse(pk, packet.ClientIDNotValid, errEmptyClientID)
			return false
		}
		pk.ClientID = randomClientID()
		assigned = true
	}
	c.client.id = pk.ClientID
	c.client.version = pk.Version
	if w := pk.Will; w != nil {
		if w.QoS > 1 {
			// QoS 2 is not supported [AWS 8.2]: MQTT 5 clients are told
			// 0x9B [MQTT-3.2.2-12]; MQTT 3.1.1 has no code for it.
			code := packet.QoSNotSupported
			if pk.Version < packet.Version5 {
				code = Drop
			}
			c.refuse(pk, code, errWillQoS2)
			return false
		}
		c.will = w
	}
	if pk.Version == packet.Version5 && pk.Props.Has(packet.PropAuthMethod) {
		// No enhanced authentication [MQTT-4.12.0-1].
		c.refuse(pk, packet.BadAuthenticationMethod, errAuthMethod)
		return false
	}

	code := c.ask(pk, func() byte { return c.s.hooks.OnConnect(&c.client, pk) })
	if code == Drop {
		return false
	}
	if code != packet.Success {
		if c.version < packet.Version5 {
			code = connackCode311(code)
		}
		c.writeNow((&packet.Connack{Code: code}).Append(nil, c.version))
		return false
	}

	c.sendWindow = opts.SendWindow
	if pk.Version == packet.Version5 {
		if pk.Props.Has(packet.PropReceiveMaximum) {
			c.sendWindow = min(c.sendWindow, int(pk.Props.ReceiveMaximum))
		}
		if pk.Props.Has(packet.PropMaximumPacketSize) {
			c.maxOut = int(pk.Props.MaximumPacketSize)
		}
	}
	expiry := uint32(0)
	switch {
	case pk.Version == packet.Version5:
		expiry = min(pk.Props.SessionExpiry, opts.MaxSessionExpiry) // absent: 0, the session ends with the connection (§3.1.2.11.2)
	case !pk.Clean:
		expiry = opts.MaxSessionExpiry
	}

	ack := packet.Connack{}
	ack.SessionPresent = c.s.attach(c, pk.Clean, expiry)
	if pk.Version == packet.Version5 {
		p := &ack.Props
		p.ReceiveMaximum, p.TopicAliasMaximum, p.MaximumPacketSize = opts.ReceiveMaximum, opts.TopicAliasMaximum, uint32(opts.MaxPacketSize)
		p.MaximumQoS, p.RetainAvailable, p.SubIDAvail = 1, 1, 0
		p.Set(packet.PropReceiveMaximum)
		p.Set(packet.PropTopicAliasMaximum)
		p.Set(packet.PropMaximumPacketSize)
		p.Set(packet.PropMaximumQoS)
		p.Set(packet.PropRetainAvailable)
		p.Set(packet.PropSubIDAvail)
		if pk.Props.SessionExpiry > expiry {
			p.SessionExpiry = expiry // the server's, where it is less (§3.2.2.3.2)
			p.Set(packet.PropSessionExpiry)
		}
		if assigned {
			p.AssignedClientID = pk.ClientID
			p.Set(packet.PropAssignedClientID)
		}
		if c.serverKeepAlive {
			p.ServerKeepAlive = c.keepAlive
			p.Set(packet.PropServerKeepAlive)
		}
	}
	c.admitted.Store(true)
	c.s.stats.connections.Add(1)
	_ = c.nc.SetReadDeadline(time.Time{})
	c.keepAliveRead(time.Now())
	_ = c.nc.SetWriteDeadline(time.Time{})
	c.send(outItem{typ: packet.CONNACK, connack: &ack}, true)
	c.s.hooks.OnConnected(&c.client, ack.SessionPresent)
	c.sess.resume(c)
	c.flushOwn()
	return true
}

// Refusals of a CONNECT by the engine itself.
var (
	errEmptyClientID = errors.New("empty client id without a clean session") // MQTT 3.1.1 [MQTT-3.1.3-8]
	errWillQoS2      = errors.New("will qos 2 not supported")
	errAuthMethod    = errors.New("enhanced authentication not supported")
)

// refuse answers a CONNECT the engine refuses with code (MQTT 5; mapped
// for MQTT 3.1.1), or closes the connection for Drop, and tells the hooks.
func (c *conn) refuse(pk *packet.Connect, code byte, why error) {
	c.s.hooks.OnConnectRefused(&c.client, pk, why)
	if code == Drop {
		return
	}
	if c.version < packet.Version5 {
		code = connackCode311(code)
	}
	c.writeNow((&packet.Connack{Code: code}).Append(nil, c.version))
}

// ask runs f, a hook that may need a deep stack, on a goroutine of its
// own: a goroutine's stack does not shrink back while it is idle, and the
// connection's lives as long as the connection. A panic in f is reported
// to OnConnectRefused, and drops the connection.
func (c *conn) ask(pk *packet.Connect, f func() byte) byte {
	done := make(chan byte, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.s.hooks.OnConnectRefused(&c.client, pk, fmt.Errorf("%w: %v\n%s", ErrPanic, r, debug.Stack()))
				done <- Drop
			}
		}()
		done <- f()
	}()
	return <-done
}
