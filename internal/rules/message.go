package rules

import (
	"strings"
	"time"
)

// Message is one message as the broker hands it to the rules engine.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte
	// ClientID is the publishing connection's client id; "" for a message
	// the server sends (an event, an iot-data publish).
	ClientID string
	// Principal is what the SQL function principal() returns: the
	// certificate id of an X.509 connection, "" for the server.
	Principal string
	// Received is when the broker took the message; zero means now.
	Received time.Time

	hops int // how many republish actions led to the message
}

// basicIngestPrefix starts the topics of AWS's Basic Ingest:
// $aws/rules/<ruleName>/<topic> reaches the rule ruleName alone, as if
// published on <topic>, and no subscriber [AWS Basic Ingest].
const basicIngestPrefix = "$aws/rules/"

// BasicIngest reports whether topic is a Basic Ingest topic. The broker
// routes such a message to no subscriber, only to the engine.
func BasicIngest(topic string) bool { return strings.HasPrefix(topic, basicIngestPrefix) }

// splitBasicIngest returns the rule a Basic Ingest topic names and the topic
// the rule sees.
func splitBasicIngest(topic string) (rule, rest string, ok bool) {
	after, ok := strings.CutPrefix(topic, basicIngestPrefix)
	if !ok {
		return "", "", false
	}
	rule, rest, ok = strings.Cut(after, "/")
	return rule, rest, ok && rule != "" && rest != ""
}
