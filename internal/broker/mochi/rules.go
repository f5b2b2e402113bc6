package mochi

import (
	"github.com/iotcore/iotcore/internal/rules"
)

// Rules is the rules engine as the broker sees it (rules.Engine): it is
// asked whether a topic is wanted before a message is built for it, and is
// handed the message without waiting.
type Rules interface {
	Wants(topic string) bool
	Message(m rules.Message)
}

// toRules hands a message that reached the broker to the rules engine, if
// a rule may want it. clientID and certificateID are "" for the server's
// own messages.
func (b *Broker) toRules(topic string, payload []byte, qos byte, clientID, certificateID string) {
	if b.cfg.Rules == nil || !b.cfg.Rules.Wants(topic) {
		return
	}
	b.cfg.Rules.Message(rules.Message{Topic: topic, Payload: payload, QoS: qos, ClientID: clientID,
		Principal: certificateID, Received: b.cfg.Now()})
}
