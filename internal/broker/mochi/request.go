package mochi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/broker"
)

// RequestTimeout bounds how long Config.Requests may take over one request.
const RequestTimeout = 30 * time.Second

// MaxRequestsInFlight is how many requests of one connection may be served
// at once. A request can be costly (CreateKeysAndCertificate makes an
// RSA-2048 key, tens of milliseconds of CPU), and a claim certificate is
// shared by a whole fleet: without a bound, one connection publishing
// requests at its publish rate would keep every core busy. A request beyond
// it is acknowledged and not served, like a message beyond the publish rate
// [AWS 9]; the device, which waits for its answer, asks again later. AWS
// throttles these operations too, with limits it does not publish.
const MaxRequestsInFlight = 4

// replies sends the answers of Config.Requests. An answer goes through
// mochi's own delivery path (QoS, in-flight window, topic aliases, flow
// control, iot:Receive), but only to the connection that asked: while it is
// published, target names that connection, and OnACLCheck lets no other
// take it. Answers go out one at a time, which also keeps target true for
// the whole of mochi's synchronous delivery.
type replies struct {
	mu     sync.Mutex              // held while an answer is published
	target atomic.Pointer[replyTo] // the answer being published, nil if none
}

type replyTo struct{ clientID, topic string }

// isRequest reports whether topic is a request topic of Config.Requests.
func (b *Broker) isRequest(topic string) bool {
	return b.cfg.Requests != nil && b.cfg.Requests.HandlesRequest(topic)
}

// isReply reports whether topic is a reply topic of Config.Requests: only
// the server publishes there.
func (b *Broker) isReply(topic string) bool {
	return broker.RequestReplyTopic(b.cfg.Requests, topic)
}

// serveRequest hands a device's request to Config.Requests on a goroutine
// of the broker's, so that the device's connection goes on reading.
func (b *Broker) serveRequest(c *conn, clientID, topic string, payload []byte) {
	certID := c.certificateID()
	if c.requests.Add(1) > MaxRequestsInFlight {
		c.requests.Add(-1)
		b.stats.requestsThrottled.Add(1)
		b.deviceLog("mqtt request not served: too many in flight", "client", clientID, "topic", topic, "max_in_flight", MaxRequestsInFlight)
		return
	}
	payload = append([]byte(nil), payload...) // mochi reuses the packet's buffer
	b.stats.requests.Add(1)
	started := b.goTracked(func() {
		defer c.requests.Add(-1)
		ctx, cancel := context.WithTimeout(b.ctx, RequestTimeout)
		defer cancel()
		b.cfg.Requests.HandleRequest(ctx, clientID, certID, topic, payload, func(replyTopic string, reply []byte) {
			b.reply(clientID, replyTopic, reply)
		})
	})
	if !started { // shutting down
		c.requests.Add(-1)
	}
}

// reply publishes payload on topic to the connection of clientID only, if it
// is subscribed to the topic and allowed to receive it (AWS: subscribe to the
// reply topics before publishing the request [AWS 6.1]).
func (b *Broker) reply(clientID, topic string, payload []byte) {
	b.replies.mu.Lock()
	defer b.replies.mu.Unlock()
	b.replies.target.Store(&replyTo{clientID: clientID, topic: topic})
	defer b.replies.target.Store(nil)
	if b.engine != nil {
		if !b.engine.PublishTo(clientID, topic, payload, 1) {
			b.log.Debug("mqtt reply not sent: the client is gone or not subscribed", "client", clientID, "topic", topic)
		}
		return
	}
	if err := b.server.Publish(topic, payload, false, 1); err != nil {
		b.log.Warn("mqtt reply not sent", "client", clientID, "topic", topic, "error", err)
	}
}

// replyFor reports whether a delivery on topic to the client clientID is
// allowed by the reply rule: any topic but a reply topic, or the reply being
// published to that client.
func (b *Broker) replyFor(clientID, topic string) bool {
	if !b.isReply(topic) {
		return true
	}
	t := b.replies.target.Load()
	return t != nil && t.clientID == clientID && t.topic == topic
}
