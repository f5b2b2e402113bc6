package mochi

import (
	"errors"
	"runtime/debug"
	"sync/atomic"
	"time"
)

var errEnginePanic = errors.New("mqtt engine panicked")

// serveMQTT hands an established connection to mochi and returns when mochi
// has finished with it.
//
// It runs mochi under recover(): mochi v2.7.9's decoder panics on some
// malformed packets (upstream issue 501: an MQTT 5 SUBSCRIBE that ends
// without the options byte of its last filter indexes past the packet), and
// mochi reads each connection on the goroutine that calls
// EstablishConnection, with no recover of its own, so one device could
// otherwise end the process.
func (b *Broker) serveMQTT(c *conn) {
	if b.engine != nil {
		b.serveIotcore(c)
		return
	}
	b.serveMochi(c)
}

// serveMochi is serveMQTT with mochi. Its frame is large, and stays off the
// stack of an iotcore engine's connection (iotcore.go).
func (b *Broker) serveMochi(c *conn) {
	defer close(c.done)
	defer c.end(nil) // the session is closed whatever happened
	defer func() {
		if r := recover(); r != nil {
			b.recovered(c, r)
		}
	}()

	// mochi sets no deadline until it has the CONNECT, and then its own
	// (keep-alive) deadlines; without this one a device that connects and
	// says nothing holds a goroutine forever, and mochi's Server.Close waits
	// for it.
	_ = c.SetWriteDeadline(time.Time{})
	_ = c.SetReadDeadline(time.Now().Add(b.cfg.ConnectTimeout))

	err := b.server.EstablishConnection(c.listener, c)
	_ = c.raw.Close()
	c.end(err)
	if err != nil {
		b.log.Debug("mqtt connection ended", "client", c.clientID(), "remote", c.RemoteAddr().String(), "error", err)
	}
}

// recovered cleans up after a panic in mochi on a connection's goroutine.
// mochi's deferred calls have run (the client is stopped, its counters are
// right), but not what follows a normal read error: the will, OnDisconnect,
// and removing a clean session. Do them here as mochi would.
func (b *Broker) recovered(c *conn, r any) {
	b.stats.panics.Add(1)
	b.log.Error("mqtt engine panicked on a connection; connection closed",
		"panic", r, "client", c.clientID(), "remote", c.RemoteAddr().String(), "stack", string(debug.Stack()))
	_ = c.raw.Close()

	d := c.device.Load()
	if d == nil || !c.admitted.Load() {
		return
	}
	cl := d.client
	cl.Stop(errEnginePanic)

	// The will, as mochi's sendLWT would (without will delay) [MQTT-3.1.2-8].
	if atomic.LoadUint32(&cl.Properties.Will.Flag) == 1 {
		w := cl.Properties.Will
		if b.mayPublishWill(c, w.TopicName, w.Retain) {
			if err := b.Publish(w.TopicName, w.Payload, w.Retain, min(w.Qos, 1)); err != nil {
				b.log.Debug("mqtt will not published", "client", d.id, "error", err)
			}
		}
	}
	c.end(errEnginePanic)

	// A clean session ends with its connection [MQTT-3.1.2-4] [MQTT-4.1.0-2].
	expire := (cl.Properties.ProtocolVersion == 5 && cl.Properties.Props.SessionExpiryInterval == 0) ||
		(cl.Properties.ProtocolVersion < 5 && cl.Properties.Clean)
	if expire && !cl.IsTakenOver() {
		cl.ClearInflights()
		b.server.UnsubscribeClient(cl)
		if cur, ok := b.server.Clients.Get(cl.ID); ok && cur == cl {
			b.server.Clients.Delete(cl.ID)
		}
	}
}
