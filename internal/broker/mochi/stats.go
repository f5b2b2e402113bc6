package mochi

import "sync/atomic"

// Stats are the broker's counters since Open, for metrics. All are totals
// except Connections, Subscriptions, Retained and Inflight, which are
// current values.
type Stats struct {
	Accepted          int64 // TCP connections accepted, both listeners
	AcceptFailures    int64 // accepts that failed, both listeners (out of file descriptors, typically)
	HandshakeFailures int64 // TLS handshakes that failed or timed out (MQTT listener)
	Connections       int64 // MQTT connections admitted and open
	Refused           int64 // CONNECTs refused (gate: Drop or NotAuthorized; reserved client id)
	GateErrors        int64 // CONNECTs that failed because the gate failed (CONNACK server unavailable)
	Kicked            int64 // connections the gate kicked
	Panics            int64 // connections ended by a recovered panic in the MQTT engine
	UpgradesRefused   int64 // WebSocket upgrades refused: no client certificate and no valid SigV4 signature
	// ProtocolErrors counts connections closed for a packet larger than
	// MaxPacketSize, malformed, or breaking the protocol in a way the engine
	// does not check (frames.go).
	ProtocolErrors int64

	MessagesIn  int64 // PUBLISH packets from devices, authorized and routed
	MessagesOut int64 // PUBLISH packets written to devices
	Published   int64 // server-originated messages (Broker.Publish)
	Requests    int64 // PUBLISH packets to Config.Requests' request topics, served
	// RequestsThrottled counts requests not served: the connection had
	// MaxRequestsInFlight being served already.
	RequestsThrottled int64

	PublishDenied   int64 // device PUBLISH packets denied (iot:Publish, iot:RetainPublish)
	SubscribeDenied int64 // topic filters denied (iot:Subscribe)
	ReceiveDenied   int64 // deliveries denied (iot:Receive)
	WillsDenied     int64 // wills not published (iot:Publish, iot:RetainPublish)

	Dropped    int64 // messages dropped because a device's outbound queue was full
	QoSDropped int64 // QoS 1 messages abandoned before their PUBACK (expired, session ended)
	// InflightDropped counts QoS 1 messages not sent to a device because it
	// already had the maximum of unacknowledged ones (mochi's inflight quota).
	InflightDropped int64
	// PublishersHeld counts deliveries a publisher waited for, its
	// subscriber's queue or QoS 1 window being nearly full (flow control);
	// Stalled those of them that were given up on because the subscriber
	// took nothing for Config.StallTimeout.
	PublishersHeld, Stalled int64

	// Limits (Config.Max..., ...Rate): what devices were refused.
	ClientIDRejected    int64 // CONNECTs refused: client id longer than MaxClientIDLength
	ConnectThrottled    int64 // CONNECTs refused: the client id's ConnectRate
	ConnectionsLimited  int64 // CONNECTs refused: MaxConnections reached
	TopicRejected       int64 // PUBLISH packets and wills refused: topic beyond MaxTopicLength or MaxTopicLevels
	FilterRejected      int64 // topic filters refused: beyond MaxTopicLength or MaxTopicLevels
	SubscribeLimited    int64 // topic filters refused: MaxFiltersPerSubscribe or MaxSubscriptions
	PublishThrottled    int64 // device PUBLISH packets discarded: the connection's PublishRate
	DeliveriesThrottled int64 // messages not delivered to a device: the connection's PublishRate

	// Persistent sessions moving between the nodes of a cluster
	// (session.go): resumed here from another node, handed over to
	// another node, ended because the device connected elsewhere with a
	// clean session.
	SessionsMovedIn, SessionsHandedOver, SessionsDropped int64

	Subscriptions int64 // subscriptions held
	Retained      int64 // retained messages held
	Inflight      int64 // QoS 1 messages awaiting PUBACK, persistent sessions' queues included
}

// counters are the broker's own counts; Stats adds mochi's.
type counters struct {
	accepted, handshakeFailures, connections, refused, gateErrors, kicked, panics atomic.Int64
	protocolErrors, acceptFailures                                                atomic.Int64
	messagesIn, published, requests, requestsThrottled                            atomic.Int64
	publishDenied, subscribeDenied, receiveDenied, willsDenied                    atomic.Int64
	dropped, qosDropped, publishersHeld, stalled                                  atomic.Int64
	clientIDRejected, connectThrottled, connectionsLimited                        atomic.Int64
	topicRejected, filterRejected, subscribeLimited                               atomic.Int64
	publishThrottled, deliveriesThrottled                                         atomic.Int64
	upgradesRefused                                                               atomic.Int64
	sessionsMovedIn, sessionsHandedOver, sessionsDropped                          atomic.Int64
	inflightDropped                                                               atomic.Int64 // EngineIotcore's
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	var sent, subscriptions, retained, inflight, inflightDropped int64
	protocolErrors := b.stats.protocolErrors.Load()
	held, stalled := b.stats.publishersHeld.Load(), b.stats.stalled.Load()
	if b.server != nil {
		info := b.server.Info
		sent, inflightDropped = atomic.LoadInt64(&info.MessagesSent), atomic.LoadInt64(&info.InflightDropped)
		subscriptions, retained = atomic.LoadInt64(&info.Subscriptions), atomic.LoadInt64(&info.Retained)
		inflight = atomic.LoadInt64(&info.Inflight)
	} else {
		es := b.engine.Stats()
		sent, inflightDropped = int64(es.PacketsSent), b.stats.inflightDropped.Load()
		subscriptions, retained, inflight = int64(es.Subscriptions), int64(es.Retained), es.Inflight
		protocolErrors += int64(es.ProtocolErrors)
		held, stalled = held+int64(es.Held), stalled+int64(es.Stalled)
	}
	return Stats{
		Accepted:          b.stats.accepted.Load(),
		AcceptFailures:    b.stats.acceptFailures.Load(),
		HandshakeFailures: b.stats.handshakeFailures.Load(),
		Connections:       b.stats.connections.Load(),
		Refused:           b.stats.refused.Load(),
		GateErrors:        b.stats.gateErrors.Load(),
		Kicked:            b.stats.kicked.Load(),
		Panics:            b.stats.panics.Load(),
		UpgradesRefused:   b.stats.upgradesRefused.Load(),
		ProtocolErrors:    protocolErrors,
		MessagesIn:        b.stats.messagesIn.Load(),
		MessagesOut:       sent,
		Published:         b.stats.published.Load(),
		Requests:          b.stats.requests.Load(),
		RequestsThrottled: b.stats.requestsThrottled.Load(),
		PublishDenied:     b.stats.publishDenied.Load(),
		SubscribeDenied:   b.stats.subscribeDenied.Load(),
		ReceiveDenied:     b.stats.receiveDenied.Load(),
		WillsDenied:       b.stats.willsDenied.Load(),
		Dropped:           b.stats.dropped.Load(),
		QoSDropped:        b.stats.qosDropped.Load(),
		InflightDropped:   inflightDropped,
		PublishersHeld:    held,
		Stalled:           stalled,

		ClientIDRejected:    b.stats.clientIDRejected.Load(),
		ConnectThrottled:    b.stats.connectThrottled.Load(),
		ConnectionsLimited:  b.stats.connectionsLimited.Load(),
		TopicRejected:       b.stats.topicRejected.Load(),
		FilterRejected:      b.stats.filterRejected.Load(),
		SubscribeLimited:    b.stats.subscribeLimited.Load(),
		PublishThrottled:    b.stats.publishThrottled.Load(),
		DeliveriesThrottled: b.stats.deliveriesThrottled.Load(),
		SessionsMovedIn:     b.stats.sessionsMovedIn.Load(),
		SessionsHandedOver:  b.stats.sessionsHandedOver.Load(),
		SessionsDropped:     b.stats.sessionsDropped.Load(),

		Subscriptions: subscriptions,
		Retained:      retained,
		Inflight:      inflight,
	}
}
