package mochi

import "github.com/mochi-mqtt/server/v2/packets"

// Acknowledgements batched into one write.
//
// mochi writes the PUBACK of each QoS 1 PUBLISH it reads as a write of its
// own: a TLS record and a write syscall per message, a quarter of the CPU of
// a QoS 1 fan-in. A device that sends many publishes at once has them read
// from one buffer; their PUBACKs now wait while the connection's goroutine
// goes on with what it has already read, and go out together when it comes
// back for more input (conn.Read) or before any other write to the device.
// A device that sent one publish gets its PUBACK as soon as the broker has
// handed the message to its subscribers. PUBACKs still held when the
// connection closes are lost with it, as they would be in a socket buffer:
// to the device, a PUBACK lost in the network (it resends on its next
// connection if it keeps its session).

// maxHeldAcks bounds the acknowledgements held back: a full TLS record's
// worth of them is written at once.
const maxHeldAcks = 16 * 1024

// keptAckBuffer is the most buffer a connection keeps for acknowledgements
// between bursts; a larger one, grown by a burst, is let go.
const keptAckBuffer = 1024

// isAck reports whether b is exactly one PUBACK: what mochi writes for a
// QoS 1 PUBLISH, 4 bytes in MQTT 3.1.1, up to 4 plus a reason code and
// properties in MQTT 5.
func isAck(b []byte) bool {
	return len(b) >= 4 && len(b) <= 16 && b[0] == packets.Puback<<4 && int(b[1]) == len(b)-2
}

// Write writes b to the device, or holds it back if it is a PUBACK written
// while the connection's goroutine is busy with input already read.
func (c *conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.processing.Load() && isAck(b) && len(c.acks)+len(b) <= maxHeldAcks {
		c.acks = append(c.acks, b...)
		c.acksHeld.Store(true)
		return len(b), nil
	}
	if err := c.flushAcksLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// Read reads from the device, first writing the acknowledgements held
// back: the connection's goroutine comes here when it has dealt with all
// it had read. It never waits for another write to finish: one in progress
// wrote the acknowledgements held before its own packets. What it reads is
// checked (frames.go): it returns the packets before one that is refused,
// and then fails.
func (c *conn) Read(b []byte) (int, error) {
	c.processing.Store(false)
	if c.acksHeld.Load() && c.wmu.TryLock() {
		err := c.flushAcksLocked()
		c.wmu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	if c.frameErr != nil {
		return 0, c.refusePacket()
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		ok, ferr := c.frames.check(b[:n])
		if ferr != nil {
			c.frameErr = ferr
			if n, err = ok, nil; n == 0 {
				return 0, c.refusePacket()
			}
		}
	}
	c.processing.Store(n > 0)
	return n, err
}

func (c *conn) flushAcksLocked() error {
	if len(c.acks) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.acks)
	c.acks = c.acks[:0]
	c.acksHeld.Store(false)
	if cap(c.acks) > keptAckBuffer {
		c.acks = nil
	}
	return err
}
