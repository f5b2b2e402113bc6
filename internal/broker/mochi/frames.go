package mochi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Checks of the inbound byte stream that mochi v2.7.9's decoder lacks.
//
// Every byte a device sends passes through conn.Read, in order, before
// mochi decodes it. frameChecker follows the packet boundaries there and
// refuses what mochi would accept:
//
//   - a packet larger than Config.MaxPacketSize, counted whole (fixed
//     header included) as the MQTT 5 CONNACK advertises it: mochi leaves out
//     the Remaining Length's own bytes and let packets 1 to 3 bytes over
//     through [MQTT-3.2.2-15] (MQTT 5 §3.2.2.3.6: 0x95 packet too large);
//   - a Variable Byte Integer (a Remaining Length, a Property Length) of
//     more than four bytes, or of more bytes than its value needs
//     [MQTT-1.5.5-1] (0x81 malformed packet);
//   - in MQTT 5, a property other than User Property given more than once
//     (each property's section: "It is a Protocol Error to include ... more
//     than once"; 0x82 protocol error), or a property mochi cannot know
//     (0x81);
//   - an MQTT 5 AUTH (0x82 protocol error): without an Authentication
//     Method, by §3.15.2.2.2; with one, because it continues an enhanced
//     authentication iotcore never starts (a CONNECT that asks for one is
//     refused, connect.go), and a client that did not ask must not send
//     AUTH (§4.12);
//   - a PINGREQ with a Remaining Length other than 0: it has no variable
//     header and no payload (§3.12; 0x81).
//
// A malformed packet or a protocol error closes the connection
// [MQTT-4.13.1-1] (MQTT 3.1.1: [MQTT-4.8.0-1]); an MQTT 5 device that has
// its CONNACK is told why first, with a DISCONNECT (§4.13). The packets
// before it are served. The checker looks only at fixed headers and at the
// start of MQTT 5 packets, up to the end of their properties: payloads are
// skipped, not copied, unless a packet's start straddles two reads.
type frameChecker struct {
	maxSize int  // largest packet, fixed header included; 0: no limit
	version byte // the CONNECT's protocol level; 0 until read

	// The packet being read.
	header   [5]byte // its fixed header, up to the byte that ends it
	nHeader  int     // bytes of header read; 0: at a packet boundary
	left     int     // bytes of its body not yet read
	typ      byte    // its type
	flags    byte    // its fixed header flags
	body     int     // its Remaining Length
	checking bool    // its start is still to be checked
	head     []byte  // its start, gathered when it straddles reads

	refused bool // a packet was refused; the connection is ending
}

// refusePacket ends the connection for the packet frames refused, once:
// it is counted and logged, and an MQTT 5 device that has its CONNACK gets
// a DISCONNECT with the reason code [MQTT-4.13.1-1] (a DISCONNECT may not
// precede the CONNACK [MQTT-3.14.0-1]). It returns the error for mochi's
// read, which makes mochi close the connection as broken (the will is
// published; lifecycle reason CLIENT_ERROR).
func (c *conn) refusePacket() error {
	err := c.frameErr
	if c.frames.refused {
		return err
	}
	c.frames.refused = true
	c.b.stats.protocolErrors.Add(1)
	c.b.deviceLog("mqtt connection closed: packet refused", "client", c.clientID(), "remote", c.RemoteAddr().String(), "error", err)
	var code packets.Code
	if d := c.device.Load(); d != nil && d.version == 5 && c.admitted.Load() && errors.As(err, &code) {
		c.raw.capDeadlines(time.Now().Add(disconnectGrace))
		_ = d.client.WritePacket(disconnectPacket(code))
	}
	return err
}

// maxHeadKept is the most buffer a connection keeps between packets for
// gathering a packet's start; a larger one, grown by a large packet, is
// let go.
const maxHeadKept = 512

// check follows b, the next bytes from the device. It returns how many
// bytes of b come before a packet that must be refused, with why, or
// len(b) and nil.
func (f *frameChecker) check(b []byte) (int, error) {
	for i := 0; i < len(b); {
		start := -1 // where the packet starts, if in b
		if f.left == 0 && !f.checking {
			// A fixed header: the type and flags, then the Remaining
			// Length.
			if f.nHeader == 0 {
				start = i
			}
			for i < len(b) {
				c := b[i]
				i++
				f.header[f.nHeader] = c
				f.nHeader++
				if f.nHeader > 1 && c&0x80 == 0 {
					break
				}
				if f.nHeader == len(f.header) {
					return max(start, 0), fmt.Errorf("%w: remaining length longer than 4 bytes", packets.ErrMalformedVariableByteInteger)
				}
			}
			if f.nHeader < 2 || f.header[f.nHeader-1]&0x80 != 0 {
				return len(b), nil // the rest of the header comes next
			}
			if err := f.startPacket(); err != nil {
				return max(start, 0), err
			}
		}
		n := min(f.left, len(b)-i)
		if f.checking {
			// The start of a packet whose content is checked: in place
			// if it is all here, else gathered.
			var done bool
			var err error
			if len(f.head) == 0 {
				done, err = f.checkBody(b[i:i+n], n == f.left)
			}
			if len(f.head) > 0 || (!done && err == nil) {
				f.head = append(f.head, b[i:i+n]...)
				done, err = f.checkBody(f.head, len(f.head) == f.body)
			}
			if err != nil {
				return max(start, 0), err
			}
			if done {
				f.checking = false
				f.head = f.head[:0]
				if cap(f.head) > maxHeadKept {
					f.head = nil
				}
			}
		}
		i += n
		f.left -= n
	}
	return len(b), nil
}

// startPacket takes the fixed header just read.
func (f *frameChecker) startPacket() error {
	n := f.nHeader
	f.nHeader = 0
	f.typ, f.flags = f.header[0]>>4, f.header[0]&0x0f
	length, w, err := varint(f.header[1:n])
	if err != nil {
		return err
	}
	f.body, f.left = length, length
	if f.maxSize > 0 && 1+w+length > f.maxSize {
		return fmt.Errorf("%w: %d bytes, the maximum is %d", packets.ErrPacketTooLarge, 1+w+length, f.maxSize)
	}
	if f.typ == packets.Pingreq && length != 0 {
		return fmt.Errorf("%w: pingreq with a remaining length of %d", packets.ErrMalformedPacket, length)
	}
	switch {
	case f.typ == packets.Connect && f.version == 0:
		f.checking = true // for the protocol version
	case f.version != 5:
	case f.typ == packets.Publish, f.typ == packets.Puback, f.typ == packets.Pubrec, f.typ == packets.Pubrel,
		f.typ == packets.Pubcomp, f.typ == packets.Subscribe, f.typ == packets.Unsubscribe,
		f.typ == packets.Disconnect, f.typ == packets.Auth:
		f.checking = true
	}
	if f.checking && length == 0 {
		// Nothing will come to check: check the empty body now.
		f.checking = false
		if _, err := f.checkBody(nil, true); err != nil {
			return err
		}
	}
	return nil
}

// checkBody checks the start of a packet's body, b; whole says b is all of
// it. done is false while more of the body is needed. What mochi's decoder
// refuses by itself (a body that ends too early, a missing packet id) is
// left to it.
func (f *frameChecker) checkBody(b []byte, whole bool) (done bool, err error) {
	props := -1 // where the properties start
	switch f.typ {
	case packets.Connect:
		return f.checkConnect(b, whole)
	case packets.Publish:
		// Topic name, packet identifier (QoS 1 and 2), properties.
		if len(b) < 2 {
			return whole, nil
		}
		props = 2 + int(binary.BigEndian.Uint16(b))
		if (f.flags>>1)&3 > 0 {
			props += 2
		}
	case packets.Puback, packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		// Packet identifier, then a reason code and properties if the
		// Remaining Length leaves room for them (§3.4.2.1).
		if f.body >= 4 {
			props = 3
		}
	case packets.Subscribe, packets.Unsubscribe:
		props = 2
	case packets.Disconnect:
		if f.body >= 2 {
			props = 1
		}
	case packets.Auth:
		// "It is a Protocol Error to omit the Authentication Method or to
		// include it more than once" (§3.15.2.2.2). With a Remaining Length
		// under 2 there are no properties (§3.15.2.1), so no method. With
		// one, no enhanced authentication was started (§4.12).
		if f.body < 2 {
			return true, fmt.Errorf("%w: auth without an authentication method", packets.ErrProtocolViolation)
		}
		seen, end, err := checkProperties(b, 1)
		switch {
		case err != nil:
			return true, err
		case end < 0 && !whole:
			return false, nil
		case !seen.has(packets.PropAuthenticationMethod):
			return true, fmt.Errorf("%w: auth without an authentication method", packets.ErrProtocolViolation)
		}
		return true, fmt.Errorf("%w: auth without enhanced authentication", packets.ErrProtocolViolation)
	}
	if props < 0 {
		return true, nil
	}
	_, end, err := checkProperties(b, props)
	return end >= 0 || whole || err != nil, err
}

// checkConnect reads the protocol version of the first CONNECT and, in
// MQTT 5, checks its properties and its will's.
func (f *frameChecker) checkConnect(b []byte, whole bool) (done bool, err error) {
	// Protocol name, protocol level, connect flags, keep-alive (§3.1.2).
	if len(b) < 2 {
		return whole, nil
	}
	at := 2 + int(binary.BigEndian.Uint16(b))
	if len(b) < at+4 {
		return whole, nil
	}
	f.version = b[at]
	flags := b[at+1]
	if f.version != 5 {
		return true, nil
	}
	_, end, err := checkProperties(b, at+4)
	if err != nil || end < 0 {
		return end >= 0 || whole || err != nil, err
	}
	if flags&0x04 == 0 { // no will
		return true, nil
	}
	// The client identifier, then the will's properties (§3.1.3.2).
	if len(b) < end+2 {
		return whole, nil
	}
	_, end, err = checkProperties(b, end+2+int(binary.BigEndian.Uint16(b[end:])))
	return end >= 0 || whole || err != nil, err
}

// propertySet is a set of property identifiers (all below 64).
type propertySet uint64

func (s propertySet) has(id byte) bool { return s&(1<<id) != 0 }

// checkProperties checks the property list at b[at:]: its Property Length,
// and each property, given at most once but for User Property (§2.2.2.2;
// each property's section). It returns the identifiers seen and where the
// list ends; end is -1 while b ends before the list does. (A list that
// runs past a whole body is mochi's to refuse.)
func checkProperties(b []byte, at int) (seen propertySet, end int, err error) {
	if at >= len(b) {
		return 0, -1, nil
	}
	length, w, err := varint(b[at:])
	if err == errShortVarint {
		return 0, -1, nil
	}
	if err != nil {
		return 0, -1, fmt.Errorf("property length: %w", err)
	}
	at += w
	end = at + length
	if end > len(b) {
		return 0, -1, nil
	}
	p := b[at:end]
	for i := 0; i < len(p); {
		id := p[i]
		i++
		var size int
		switch id {
		case packets.PropPayloadFormat, packets.PropRequestProblemInfo, packets.PropRequestResponseInfo,
			packets.PropMaximumQos, packets.PropRetainAvailable, packets.PropWildcardSubAvailable,
			packets.PropSubIDAvailable, packets.PropSharedSubAvailable:
			size = 1
		case packets.PropServerKeepAlive, packets.PropReceiveMaximum, packets.PropTopicAliasMaximum, packets.PropTopicAlias:
			size = 2
		case packets.PropMessageExpiryInterval, packets.PropSessionExpiryInterval, packets.PropWillDelayInterval,
			packets.PropMaximumPacketSize:
			size = 4
		case packets.PropContentType, packets.PropResponseTopic, packets.PropCorrelationData,
			packets.PropAssignedClientID, packets.PropAuthenticationMethod, packets.PropAuthenticationData,
			packets.PropResponseInfo, packets.PropServerReference, packets.PropReasonString:
			size = stringSize(p[i:])
		case packets.PropUser: // a name and a value
			if size = stringSize(p[i:]); size >= 0 && i+size <= len(p) {
				if n := stringSize(p[i+size:]); n >= 0 {
					size += n
				} else {
					size = -1
				}
			}
		case packets.PropSubscriptionIdentifier:
			if _, size, err = varint(p[i:]); err != nil {
				return 0, -1, fmt.Errorf("subscription identifier: %w", err)
			}
		default:
			return 0, -1, fmt.Errorf("%w: identifier %#x", packets.ErrMalformedBadProperty, id)
		}
		if size < 0 || i+size > len(p) {
			return 0, -1, fmt.Errorf("%w: property %#x runs past the property length", packets.ErrMalformedProperties, id)
		}
		i += size
		if id != packets.PropUser {
			if seen.has(id) {
				return 0, -1, fmt.Errorf("%w: property %#x given more than once", packets.ErrProtocolViolation, id)
			}
			seen |= 1 << id
		}
	}
	return seen, end, nil
}

// stringSize is the size of the UTF-8 string or binary data at the start of
// b, its two length bytes included; -1 if b is too short for them.
func stringSize(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	return 2 + int(binary.BigEndian.Uint16(b))
}

var errShortVarint = fmt.Errorf("%w: truncated variable byte integer", packets.ErrMalformedPacket)

// varint decodes the Variable Byte Integer at the start of b and says how
// many bytes it takes: at most four, and no more than its value needs
// [MQTT-1.5.5-1]. errShortVarint: b ends first.
func varint(b []byte) (v, n int, err error) {
	for n < 4 {
		if n == len(b) {
			return 0, 0, errShortVarint
		}
		c := b[n]
		v |= int(c&0x7f) << (7 * n)
		n++
		if c&0x80 == 0 {
			if n > 1 && c == 0 {
				return 0, 0, fmt.Errorf("%w: %d bytes for %d", packets.ErrMalformedVariableByteInteger, n, v)
			}
			return v, n, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: longer than 4 bytes", packets.ErrMalformedVariableByteInteger)
}
