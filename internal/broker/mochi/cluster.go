package mochi

import (
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/mqttserver"
)

// Cluster hands the messages this node accepts to the other nodes of a
// cluster (package cluster); they deliver them with DeliverFromCluster.
type Cluster interface {
	Forward(topic string, payload []byte, qos byte, retain bool)
}

// toCluster hands an accepted message to the cluster. Basic Ingest
// messages ($aws/rules/...) go to no subscriber, and their rules run here:
// they stay on this node.
func (b *Broker) toCluster(topic string, payload []byte, qos byte, retain bool) {
	if b.cfg.Cluster == nil || strings.HasPrefix(topic, basicIngestPrefix) {
		return
	}
	b.cfg.Cluster.Forward(topic, payload, qos, retain)
}

// DeliverFromCluster delivers a message another node accepted to this
// node's subscribers, each through its iot:Receive check, and keeps it if
// retained. Rules do not run on it: they ran on the node that accepted it.
func (b *Broker) DeliverFromCluster(topic string, payload []byte, qos byte, retain bool) error {
	return b.publish(topic, payload, retain && !strings.HasPrefix(topic, "$"), qos)
}

// RetainedMessage is a retained message, for a node that joins a cluster.
type RetainedMessage struct {
	Topic   string
	Payload []byte
	QoS     byte
}

// RetainedMessages lists the retained messages this node keeps.
func (b *Broker) RetainedMessages() []RetainedMessage {
	if b.engine != nil {
		var out []RetainedMessage
		b.engine.RetainedMessages(func(m *mqttserver.Message) bool {
			out = append(out, RetainedMessage{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS})
			return true
		})
		return out
	}
	pks := b.server.Topics.Messages("#")
	out := make([]RetainedMessage, 0, len(pks))
	for _, pk := range pks {
		out = append(out, RetainedMessage{Topic: pk.TopicName, Payload: pk.Payload, QoS: pk.FixedHeader.Qos})
	}
	return out
}

// KeepRetained keeps a retained message another node had before this one
// joined, unless this node keeps one on the topic already (which is as new
// or newer); no subscriber receives it now: subscriptions made from now on
// do.
func (b *Broker) KeepRetained(m RetainedMessage) {
	if len(m.Payload) == 0 || strings.HasPrefix(m.Topic, "$") {
		return
	}
	if b.engine != nil {
		b.engine.Retain(m.Topic, m.Payload, m.QoS)
		return
	}
	if len(b.server.Topics.Messages(m.Topic)) > 0 {
		return
	}
	b.server.Topics.RetainMessage(packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: true, Qos: min(m.QoS, 1)},
		TopicName:   m.Topic,
		Payload:     m.Payload,
		Created:     time.Now().Unix(),
	})
}
