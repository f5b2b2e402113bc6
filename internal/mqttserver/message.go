package mqttserver

import (
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// Message is a PUBLISH as the server routes it: one, shared by every
// delivery, never changed once routed.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	// Props are the MQTT 5 properties forwarded to subscribers unaltered
	// [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17]
	// [MQTT-3.3.2-18] (payload format, content type, response topic,
	// correlation data, user properties); nil when none.
	Props *packet.Properties
	// Expires is when the Message Expiry Interval ends; zero: never.
	Expires time.Time

	from *session // the publisher's session (No Local); nil from the server
}

// forwarded are the properties of a PUBLISH that go on to subscribers.
var forwarded = []byte{packet.PropPayloadFormat, packet.PropContentType, packet.PropResponseTopic, packet.PropCorrelationData, packet.PropUser}

// messageOf makes the routed message of a PUBLISH received at now.
func messageOf(pk *packet.Publish, from *session, now time.Time) *Message {
	m := &Message{Topic: pk.Topic, Payload: pk.Payload, QoS: pk.QoS, Retain: pk.Retain, from: from}
	p := &pk.Props
	if p.Has(packet.PropMessageExpiry) {
		m.Expires = now.Add(time.Duration(p.MessageExpiry) * time.Second)
	}
	for _, id := range forwarded {
		if p.Has(id) {
			m.Props = &packet.Properties{
				PayloadFormat:   p.PayloadFormat,
				ContentType:     p.ContentType,
				ResponseTopic:   p.ResponseTopic,
				CorrelationData: p.CorrelationData,
				User:            p.User,
			}
			for _, id := range forwarded {
				if p.Has(id) {
					m.Props.Set(id)
				}
			}
			break
		}
	}
	return m
}

// expired reports whether m's expiry has passed at now.
func (m *Message) expired(now time.Time) bool {
	return !m.Expires.IsZero() && !now.Before(m.Expires)
}

// publishPacket is the PUBLISH that delivers m with packet id, QoS and
// retain flag for one subscriber, its expiry counted down at now
// [MQTT-3.3.2-6].
func (m *Message) publishPacket(id uint16, qos byte, retain, dup bool, version byte, now time.Time) packet.Publish {
	pk := packet.Publish{Topic: m.Topic, Payload: m.Payload, QoS: qos, PacketID: id, Retain: retain, Dup: dup}
	if version != packet.Version5 {
		return pk
	}
	if m.Props != nil {
		pk.Props = *m.Props
	}
	if !m.Expires.IsZero() {
		left := m.Expires.Sub(now)
		pk.Props.MessageExpiry = uint32((left + time.Second - 1) / time.Second)
		pk.Props.Set(packet.PropMessageExpiry)
	}
	return pk
}
