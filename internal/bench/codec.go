package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/mochi-mqtt/server/v2/packets"
)

// The wire format of MQTT 3.1.1 as the load generator speaks it. The hot
// paths (PUBLISH and PUBACK, both ways) are encoded and decoded here without
// allocating; CONNECT and SUBSCRIBE, sent once per connection, go through
// mochi's codec. Tests check both against mochi's.

// protocolVersion is MQTT 3.1.1's protocol level [MQTT-3.1.2-2].
const protocolVersion = 4

// maxIncoming bounds a packet read from the server: AWS IoT's 128 KiB
// message limit with room for the topic.
const maxIncoming = 256 * 1024

// Fixed packets [MQTT-3.12.1], [MQTT-3.14.1].
var (
	pingreqPacket    = []byte{packets.Pingreq << 4, 0}
	disconnectPacket = []byte{packets.Disconnect << 4, 0}
)

// errMalformed is a packet from the server this client cannot read.
var errMalformed = errors.New("malformed packet")

// errServerDisconnect is a DISCONNECT from the server.
var errServerDisconnect = errors.New("the server sent DISCONNECT")

// Packet is one control packet read from the server. Topic and Payload
// alias the connection's read buffer: they are valid until the next read.
type Packet struct {
	Type  byte // packets.Connack, packets.Publish...
	Flags byte // the fixed header's low four bits
	// ID is the packet identifier of a PUBLISH at QoS 1, a PUBACK or a SUBACK.
	ID      uint16
	Topic   []byte // PUBLISH
	Payload []byte // PUBLISH
	// SessionPresent and ReturnCode are a CONNACK's [MQTT-3.2.2];
	// ReturnCode is also the reason code of a DISCONNECT, which MQTT 5
	// servers send.
	SessionPresent bool
	ReturnCode     byte
	// Codes are a SUBACK's return codes, one per filter [MQTT-3.9.3].
	Codes []byte
}

// QoS is a PUBLISH's quality of service [MQTT-3.3.1.2].
func (p *Packet) QoS() byte { return p.Flags >> 1 & 3 }

// appendLength appends n as a Variable Byte Integer, the fixed header's
// remaining length [MQTT-2.2.3].
func appendLength(dst []byte, n int) []byte {
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
		if n == 0 {
			return dst
		}
	}
}

// readLength reads a remaining length of at most four bytes [MQTT-2.2.3].
func readLength(r io.ByteReader) (int, error) {
	n, shift := 0, 0
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			return n, nil
		}
		shift += 7
	}
	return 0, fmt.Errorf("%w: remaining length longer than four bytes", errMalformed)
}

// appendPublish appends a PUBLISH packet; id is ignored at QoS 0
// [MQTT-2.3.1-5].
func appendPublish(dst []byte, topic string, qos byte, id uint16, payload []byte) []byte {
	n := 2 + len(topic) + len(payload)
	if qos > 0 {
		n += 2
	}
	dst = append(dst, packets.Publish<<4|qos<<1)
	dst = appendLength(dst, n)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(topic)))
	dst = append(dst, topic...)
	if qos > 0 {
		dst = binary.BigEndian.AppendUint16(dst, id)
	}
	return append(dst, payload...)
}

// appendPuback appends the PUBACK of a QoS 1 PUBLISH [MQTT-3.4].
func appendPuback(dst []byte, id uint16) []byte {
	return append(dst, packets.Puback<<4, 2, byte(id>>8), byte(id))
}

// encodeConnect is a CONNECT with a clean session, no will and no
// credentials: the certificate is the identity.
func encodeConnect(clientID string, keepalive uint16) ([]byte, error) {
	pk := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connect},
		ProtocolVersion: protocolVersion,
		Connect: packets.ConnectParams{
			ProtocolName:     []byte("MQTT"),
			ClientIdentifier: clientID,
			Keepalive:        keepalive,
			Clean:            true,
		},
	}
	var buf bytes.Buffer
	if err := pk.ConnectEncode(&buf); err != nil {
		return nil, fmt.Errorf("encode CONNECT: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeSubscribe is a SUBSCRIBE to one filter.
func encodeSubscribe(id uint16, filter string, qos byte) ([]byte, error) {
	pk := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, // [MQTT-3.8.1-1]
		ProtocolVersion: protocolVersion,
		PacketID:        id,
		Filters:         packets.Subscriptions{{Filter: filter, Qos: qos}},
	}
	var buf bytes.Buffer
	if err := pk.SubscribeEncode(&buf); err != nil {
		return nil, fmt.Errorf("encode SUBSCRIBE: %w", err)
	}
	return buf.Bytes(), nil
}

// readPacket reads one packet from r into *buf (grown as needed) and
// decodes it.
func readPacket(r *bufio.Reader, buf *[]byte) (Packet, error) {
	header, err := r.ReadByte()
	if err != nil {
		return Packet{}, err
	}
	n, err := readLength(r)
	if err != nil {
		return Packet{}, err
	}
	if n > maxIncoming {
		return Packet{}, fmt.Errorf("%w: %d bytes, more than %d", errMalformed, n, maxIncoming)
	}
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	body := (*buf)[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Packet{}, err
	}
	return decodePacket(header, body)
}

// decodePacket decodes the packets a server sends an MQTT 3.1.1 client.
func decodePacket(header byte, body []byte) (Packet, error) {
	p := Packet{Type: header >> 4, Flags: header & 0x0f}
	short := func() (Packet, error) {
		return p, fmt.Errorf("%w: %s of %d bytes", errMalformed, packets.PacketNames[p.Type], len(body))
	}
	switch p.Type {
	case packets.Connack: // [MQTT-3.2.2]
		if len(body) != 2 {
			return short()
		}
		p.SessionPresent = body[0]&1 == 1
		p.ReturnCode = body[1]
	case packets.Publish: // [MQTT-3.3.2]
		if p.QoS() > 2 {
			return p, fmt.Errorf("%w: PUBLISH with QoS 3", errMalformed) // [MQTT-3.3.1-4]
		}
		if len(body) < 2 {
			return short()
		}
		tl := int(binary.BigEndian.Uint16(body))
		rest := body[2:]
		if len(rest) < tl {
			return short()
		}
		p.Topic, rest = rest[:tl], rest[tl:]
		if p.QoS() > 0 {
			if len(rest) < 2 {
				return short()
			}
			p.ID, rest = binary.BigEndian.Uint16(rest), rest[2:]
		}
		p.Payload = rest
	case packets.Puback: // [MQTT-3.4.2]
		if len(body) != 2 {
			return short()
		}
		p.ID = binary.BigEndian.Uint16(body)
	case packets.Suback: // [MQTT-3.9.2], [MQTT-3.9.3]
		if len(body) < 3 {
			return short()
		}
		p.ID = binary.BigEndian.Uint16(body)
		p.Codes = body[2:]
	case packets.Pingresp:
	case packets.Disconnect:
		// An MQTT 3.1.1 server closes the connection without a word
		// [MQTT-3.14]; some (mochi) send an MQTT 5 style DISCONNECT first.
		if len(body) > 0 {
			p.ReturnCode = body[0]
		}
	default:
		return p, fmt.Errorf("%w: unexpected packet type %d from the server", errMalformed, p.Type)
	}
	return p, nil
}
