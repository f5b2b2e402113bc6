package mqttserver

import (
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// outItem is one packet waiting to be written to a connection, encoded
// only when written.
type outItem struct {
	typ     packet.Type
	id      uint16
	code    byte // PUBACK
	qos     byte
	retain  bool
	dup     bool
	m       *Message        // a QoS 0 PUBLISH
	d       *delivery       // a QoS 1 PUBLISH
	codes   []byte          // SUBACK, UNSUBACK
	connack *packet.Connack // CONNACK
}

// writeBufferSize is how much the writer gathers before it writes: one
// full TLS record.
const writeBufferSize = 16 * 1024

var writeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, writeBufferSize); return &b }}

// send queues it to be written. own says the caller is c's own goroutine,
// which writes what it queued once the packet at hand is handled
// (flushOwn); any other goroutine that finds no writer at work starts one.
// A QoS 0 PUBLISH finds the queue full at Options.OutboundQueue and is
// not queued (it reports false); acknowledgements and QoS 1 messages are
// bounded by the client's packets and the send window.
func (c *conn) send(it outItem, own bool) bool {
	c.wmu.Lock()
	if c.closing || it.typ == packet.PUBLISH && it.d == nil && len(c.out) >= c.s.opts.OutboundQueue {
		c.wmu.Unlock()
		return false
	}
	c.out = append(c.out, it)
	if c.writing || own {
		c.wmu.Unlock()
		return true
	}
	c.writing = true
	c.wmu.Unlock()
	go c.writeLoop()
	return true
}

// flushOwn writes, on c's own goroutine, what it queued, unless a writer
// is at work already (it takes them).
func (c *conn) flushOwn() {
	c.wmu.Lock()
	if c.writing || c.closing || len(c.out) == 0 {
		c.wmu.Unlock()
		return
	}
	c.writing = true
	c.wmu.Unlock()
	c.writeLoop()
}

// waitRoom waits, if c's queue is full, until it is at most half full, c
// ends, or d passes (the subscriber stalled: counted). It reports whether
// it waited, and whether there may be room now. Once a wait has timed out,
// no one waits for c again until one of its writes completes: a client
// that stopped reading holds each publisher back once, not on every
// message.
func (c *conn) waitRoom(d time.Duration) (held, room bool) {
	if c.stalled.Load() {
		return false, false
	}
	c.wmu.Lock()
	if c.closing {
		c.wmu.Unlock()
		return false, false
	}
	if len(c.out) < c.s.opts.OutboundQueue {
		c.wmu.Unlock()
		return false, true
	}
	if c.room == nil {
		c.room = make(chan struct{})
	}
	wake := c.room
	c.wmu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
		return true, true
	case <-t.C:
		c.stalled.Store(true)
		c.s.stats.stalled.Add(1)
		return true, false
	case <-c.done:
		return true, false
	}
}

// writeLoop writes what is queued until the queue is empty, gathering
// packets into buffers of writeBufferSize, then stops being the writer.
// The queue's memory goes with it: an idle connection keeps none.
func (c *conn) writeLoop() {
	bp := writeBuffers.Get().(*[]byte)
	defer writeBuffers.Put(bp)
	for {
		c.wmu.Lock()
		batch := c.out
		if len(batch) == 0 || c.closing {
			c.stopWritingLocked()
			c.wmu.Unlock()
			return
		}
		c.out = c.spare[:0]
		c.wakeLocked()
		c.wmu.Unlock()

		if err := c.write(bp, batch); err != nil {
			c.wmu.Lock()
			c.closing = true
			c.stopWritingLocked()
			c.wmu.Unlock()
			c.disconnect(packet.UnspecifiedError, err)
			return
		}
		clear(batch)
		c.wmu.Lock()
		c.spare = batch[:0]
		c.wmu.Unlock()
	}
}

// stopWritingLocked ends the writer's turn; c.wmu is held. The queue's
// memory goes: an idle connection keeps none.
func (c *conn) stopWritingLocked() {
	c.writing = false
	c.out, c.spare = nil, nil
	c.wakeLocked()
	if c.writerIdle != nil {
		close(c.writerIdle)
		c.writerIdle = nil
	}
}

// wakeLocked wakes the publishers waiting for room once the queue is at
// most half full. c.wmu is held.
func (c *conn) wakeLocked() {
	if c.room != nil && (len(c.out) <= c.s.opts.OutboundQueue/2 || c.closing) {
		close(c.room)
		c.room = nil
	}
}

// write encodes batch into *bp and writes it, a buffer at a time.
func (c *conn) write(bp *[]byte, batch []outItem) error {
	buf := (*bp)[:0]
	now := c.s.opts.Now()
	for i := range batch {
		it := &batch[i]
		buf = c.appendItem(buf, it, now)
		if len(buf) >= writeBufferSize {
			if err := c.writeBuf(buf); err != nil {
				return err
			}
			buf = (*bp)[:0]
		}
	}
	if len(buf) > 0 {
		if err := c.writeBuf(buf); err != nil {
			return err
		}
	}
	if cap(buf) <= 4*writeBufferSize {
		*bp = buf[:0] // a buffer grown by a large packet is let go
	}
	return nil
}

func (c *conn) writeBuf(b []byte) error {
	_, err := c.nc.Write(b)
	if err == nil && c.stalled.Load() {
		c.stalled.Store(false)
	}
	return err
}

// appendItem encodes one queued packet.
func (c *conn) appendItem(buf []byte, it *outItem, now time.Time) []byte {
	switch it.typ {
	case packet.PUBLISH:
		m, id, qos, retain := it.m, uint16(0), it.qos, it.retain
		if it.d != nil {
			m, id, retain = it.d.m, it.d.id, it.d.retain
		}
		pk := m.publishPacket(id, qos, retain, it.dup, c.version, now)
		if c.maxOut > 0 && pk.Size(c.version) > c.maxOut {
			// Larger than the client accepts: dropped as if delivered
			// [MQTT-3.1.2-25].
			c.s.dropped(&c.client, m, DropTooLarge)
			if it.d != nil {
				c.sess.acked(id)
			}
			return buf
		}
		c.s.stats.sent.Add(1)
		return pk.Append(buf, c.version)
	case packet.PUBACK:
		return (&packet.Ack{Type: packet.PUBACK, PacketID: it.id, Code: it.code}).Append(buf, c.version)
	case packet.SUBACK:
		return (&packet.Suback{PacketID: it.id, Codes: it.codes}).Append(buf, c.version)
	case packet.UNSUBACK:
		return (&packet.Unsuback{PacketID: it.id, Codes: it.codes}).Append(buf, c.version)
	case packet.PINGRESP:
		return packet.AppendPingresp(buf)
	case packet.CONNACK:
		return it.connack.Append(buf, c.version)
	}
	return buf
}

// waitWriter waits until no writer is at work: the connection has ended
// and what it queued is written or abandoned.
func (c *conn) waitWriter() {
	c.wmu.Lock()
	if !c.writing {
		c.wmu.Unlock()
		return
	}
	if c.writerIdle == nil {
		c.writerIdle = make(chan struct{})
	}
	idle := c.writerIdle
	c.wmu.Unlock()
	<-idle
}
