package mochi

import (
	"errors"
	"fmt"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/rules"
)

// ErrClosed is returned by Publish once Serve has returned.
var ErrClosed = errors.New("mqtt broker closed")

// checkPublish runs when a PUBLISH has been read, before mochi processes it,
// for what mochi would otherwise mishandle:
//
//   - a topic name mochi will not route ($SYS/..., or wildcards
//     [MQTT-3.3.2-2]): mochi drops it silently, leaving a QoS 1 publisher
//     waiting for its PUBACK forever. AWS may close the connection on
//     unsupported reserved topics [AWS 7.4]: we do (MQTT 5: DISCONNECT 0x90).
//   - QoS 2, which AWS does not support [AWS 8.2]: mochi would downgrade it
//     and answer PUBACK to a client waiting for PUBREC. MQTT 5 clients were
//     told the maximum QoS is 1, so it is a protocol error (DISCONNECT 0x9B
//     [MQTT-3.2.2-11]); MQTT 3.1.1 ones get no answer, as from AWS.
//
// Rejecting the packet here makes mochi close the connection.
func (h *hook) checkPublish(cl *mqtt.Client, pk *packets.Packet) error {
	if pk.FixedHeader.Qos > 1 && cl.Properties.ProtocolVersion < 5 {
		pk.Ignore = true // OnPublish drops it
		return nil
	}
	var code packets.Code
	switch {
	case pk.FixedHeader.Qos > 1:
		code = packets.ErrQosNotSupported
	case pk.TopicName != "" && !mqtt.IsValidFilter(pk.TopicName, true):
		code = packets.ErrTopicNameInvalid
	default:
		return nil
	}
	if cl.Properties.ProtocolVersion == 5 {
		writeDisconnect(cl, code)
	}
	return packets.ErrRejectPacket
}

// writeDisconnect writes an MQTT 5 DISCONNECT with code. It is not inlined:
// the packet it builds (800 bytes) would otherwise enlarge the frame of
// every caller on a connection's read path (hook.go).
//
//go:noinline
func writeDisconnect(cl *mqtt.Client, code packets.Code) {
	_ = cl.WritePacket(disconnectPacket(code))
}

// puback corrects the reason code of the PUBACK mochi writes for an
// accepted QoS 1 PUBLISH: mochi takes it from the SUBACK table (0x01
// granted QoS 1, upstream issue 474), and a PUBACK's reason codes are
// those of Table 3-4, where 0x01 is not [MQTT-3.4.2-1]. AWS answers 0x00
// success, with or without subscribers (not 0x10 no matching subscribers).
// Refusals (0x87, 0x90, 0x97) pass unchanged; MQTT 3.1.1 PUBACKs carry no
// reason code.
func puback(pk *packets.Packet) {
	if pk.ReasonCode == packets.CodeGrantedQos1.Code {
		pk.ReasonCode = packets.CodeSuccess.Code
	}
}

// OnPublish decides iot:Publish, and iot:RetainPublish for a retained
// message, on a device's PUBLISH, and applies the topic limits and the
// connection's publish rate. mochi has already resolved its topic alias.
//
// A denial is answered as AWS does [AWS 7.4]: MQTT 3.1.1, the connection is
// closed; MQTT 5 QoS 1, PUBACK 0x87 not authorized; MQTT 5 QoS 0 (which has
// no PUBACK), DISCONNECT 0x87. A topic name beyond MaxTopicLength or
// MaxTopicLevels [AWS 8.4] is answered the same way with 0x90 topic name
// invalid.
//
// A PUBLISH beyond the connection's PublishRate is discarded, as AWS does,
// and the connection stays up [AWS 9]: QoS 0 silently; QoS 1 in MQTT 3.1.1
// without a PUBACK (AWS's behaviour: the device resends it later); QoS 1 in
// MQTT 5 with PUBACK 0x97 quota exceeded, so that the message does not hold
// one of the device's receive-maximum slots forever.
//
// (mochi's OnACLCheck(write=true), which comes first, always allows: its
// denial drops QoS 0 silently, and it runs before the topic alias is known.)
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil // Broker.Publish
	}
	c := connOf(cl)
	if c == nil || pk.Ignore || c.dead.Load() {
		return pk, packets.ErrRejectPacket // dropped, unanswered
	}
	if why := h.b.cfg.topicLimitExceeded(pk.TopicName); why != "" {
		h.b.stats.topicRejected.Add(1)
		h.b.deviceLog("mqtt publish refused: topic name "+why, "client", cl.ID, "topic", pk.TopicName, "qos", pk.FixedHeader.Qos)
		return h.refusePublish(c, cl, pk, packets.ErrTopicNameInvalid)
	}
	if !mayPublish(c, pk.TopicName, pk.FixedHeader.Retain) {
		h.b.stats.publishDenied.Add(1)
		h.b.deviceLog("mqtt publish denied", "client", cl.ID, "topic", pk.TopicName, "retain", pk.FixedHeader.Retain, "qos", pk.FixedHeader.Qos)
		return h.refusePublish(c, cl, pk, packets.ErrNotAuthorized)
	}
	if !c.takePublish("inbound", pk.TopicName) {
		h.b.stats.publishThrottled.Add(1)
		if cl.Properties.ProtocolVersion == 5 && pk.FixedHeader.Qos > 0 {
			return pk, packets.ErrQuotaExceeded // mochi answers PUBACK 0x97
		}
		return pk, packets.ErrRejectPacket
	}
	h.b.stats.messagesIn.Add(1)
	c.publishing.Store(true) // until OnPublished (flow.go)
	switch {
	case h.b.isRequest(pk.TopicName):
		// A request, answered to this connection alone: acknowledged,
		// routed to no subscriber, and served once its PUBACK is written
		// (OnPublished), so that the device hears the PUBACK first.
		c.request = true
		pk.Ignore = true
	case rules.BasicIngest(pk.TopicName):
		// Basic Ingest: for the rule it names alone, no subscriber
		// (OnPublished hands it to the rules).
		pk.Ignore = true
	}
	return pk, nil
}

// OnPublished marks the end of the delivery of a device's message, and
// hands a request to Config.Requests: mochi has written its PUBACK (or
// holds it, to go out before any other write to the device: acks.go).
func (h *hook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	c := connOf(cl)
	if c == nil {
		return
	}
	c.publishing.Store(false)
	if c.request { // the connection's goroutine alone reads and writes it
		c.request = false
		h.b.serveRequest(c, cl.ID, pk.TopicName, pk.Payload)
		return
	}
	h.b.toRules(pk.TopicName, pk.Payload, pk.FixedHeader.Qos, cl.ID, c.certificateID())
	h.b.toCluster(pk.TopicName, pk.Payload, pk.FixedHeader.Qos, pk.FixedHeader.Retain)
}

// refusePublish answers a PUBLISH refused with code: MQTT 3.1.1, the
// connection is closed; MQTT 5 QoS 1, PUBACK code; MQTT 5 QoS 0, DISCONNECT
// code [AWS 7.4].
func (h *hook) refusePublish(c *conn, cl *mqtt.Client, pk packets.Packet, code packets.Code) (packets.Packet, error) {
	switch {
	case cl.Properties.ProtocolVersion < 5:
		c.closeTransport()
	case pk.FixedHeader.Qos == 0:
		_ = cl.WritePacket(disconnectPacket(code))
		c.closeTransport()
	default:
		// mochi answers a packets.Code with a PUBACK of that code (MQTT 5,
		// QoS 1) and does not route the message. Any other error it would
		// log and then route the message anyway.
		return pk, code
	}
	return pk, packets.ErrRejectPacket
}

// takePublish counts a PUBLISH to or from the device against its
// PublishRate [AWS 9], and reports whether it may go. While the session is
// not live (a persistent session's queue, after the connection) nothing is
// counted. The first refusal of a run is logged.
func (c *conn) takePublish(direction, topic string) bool {
	if c.b.cfg.PublishRate <= 0 {
		return true // no limit: not even the clock is read
	}
	c.mu.RLock()
	live := c.state == sessionLive
	c.mu.RUnlock()
	if !live {
		return true
	}
	ok, first := c.publishes.take(c.b.cfg.Now(), c.b.cfg.PublishRate)
	if first {
		c.b.deviceLog("mqtt publish rate exceeded: discarding messages", "client", c.clientID(),
			"direction", direction, "topic", topic, "rate_per_s", c.b.cfg.PublishRate)
	}
	return ok
}

// mayPublish decides a publish by a device, or its will. The reply topics
// of requests are the server's alone.
func mayPublish(c *conn, topic string, retain bool) bool {
	if c.b.isReply(topic) || !c.authorize(broker.Publish, topic) {
		return false
	}
	if !retain {
		return true
	}
	// AWS: a retained message needs iot:RetainPublish too, and reserved ($)
	// topics cannot be retained [AWS 8.3]. (mochi's retained index would also
	// hand a retained $ message to a "#" subscriber [MQTT-4.7.2-1].)
	return !strings.HasPrefix(topic, "$") && c.authorize(broker.RetainPublish, topic)
}

// OnWill decides the will of a connection that ended without DISCONNECT,
// as a publish by the device at that moment: AWS requires iot:Publish (and
// iot:RetainPublish) on the will topic, which must be within the topic
// limits.
func (h *hook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	c := connOf(cl)
	if c != nil && h.b.mayPublishWill(c, will.TopicName, will.Retain) {
		return will, nil
	}
	// mochi cannot cancel a will from here, and an error keeps the will
	// unchanged. An empty topic name matches no subscriber, and without the
	// retain flag nothing is stored.
	return mqtt.Will{}, nil
}

// mayPublishWill decides a will, counting and logging a refusal.
func (b *Broker) mayPublishWill(c *conn, topic string, retain bool) bool {
	if why := b.cfg.topicLimitExceeded(topic); why != "" {
		b.stats.topicRejected.Add(1)
		b.deviceLog("mqtt will refused: topic name "+why, "client", c.clientID(), "topic", topic)
		return false
	}
	if !mayPublish(c, topic, retain) {
		b.stats.willsDenied.Add(1)
		b.deviceLog("mqtt will denied", "client", c.clientID(), "topic", topic, "retain", retain)
		return false
	}
	return true
}

// Publish sends a server-originated message, such as an AWS event on a
// $aws/events/... topic, to every subscriber whose session allows
// iot:Receive on the topic. qos is 0 or 1; reserved ($) topics cannot be
// retained.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if err := b.publish(topic, payload, retain, qos); err != nil {
		return err
	}
	b.toRules(topic, payload, qos, "", "")
	b.toCluster(topic, payload, qos, retain)
	return nil
}

// PublishFromRules sends a message of the rules engine (a republish action,
// a failure event) to the subscribers, as Publish does, without handing it
// back to the rules: the engine evaluates its own messages.
func (b *Broker) PublishFromRules(topic string, payload []byte, qos byte) error {
	if err := b.publish(topic, payload, false, qos); err != nil {
		return err
	}
	b.toCluster(topic, payload, qos, false)
	return nil
}

func (b *Broker) publish(topic string, payload []byte, retain bool, qos byte) error {
	switch {
	case b.closed.Load():
		return ErrClosed
	case topic == "" || strings.ContainsAny(topic, "+#"):
		return fmt.Errorf("publish %q: invalid topic name", topic)
	case qos > 1:
		return fmt.Errorf("publish %q: qos %d: only 0 and 1 are supported", topic, qos)
	case retain && strings.HasPrefix(topic, "$"):
		return fmt.Errorf("publish %q: reserved topics cannot be retained", topic)
	case len(payload) > b.cfg.MaxPacketSize:
		return fmt.Errorf("publish %q: payload of %d bytes exceeds %d", topic, len(payload), b.cfg.MaxPacketSize)
	}
	if b.engine != nil {
		err := b.engine.Publish(topic, payload, qos, retain)
		if err != nil {
			return fmt.Errorf("publish %q: %w", topic, err)
		}
	} else if err := b.server.Publish(topic, payload, retain, qos); err != nil {
		return fmt.Errorf("publish %q: %w", topic, err)
	}
	b.stats.published.Add(1)
	return nil
}

// Subscribed reports whether any subscription, of a device or of the
// server, or any rule, matches topic; in a cluster, always.
func (b *Broker) Subscribed(topic string) bool {
	if b.cfg.Rules != nil && b.cfg.Rules.Wants(topic) {
		return true
	}
	if b.cfg.Cluster != nil {
		return true // another node's devices may subscribe
	}
	if b.engine != nil {
		return b.engine.Subscribed(topic)
	}
	s := b.server.Topics.Subscribers(topic)
	return len(s.Subscriptions) > 0 || len(s.Shared) > 0 || len(s.InlineSubscriptions) > 0
}

var _ broker.Publisher = (*Broker)(nil)
