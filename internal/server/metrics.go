package server

import (
	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/metrics"
)

// exportBrokerStats exports the MQTT broker's counters as metrics.
func exportBrokerStats(m *metrics.Metrics, b *mochi.Broker) {
	for _, c := range []struct {
		name, help string
		gauge      bool
		value      func(mochi.Stats) int64
	}{
		{"mqtt_connections", "MQTT connections admitted and open.", true, func(s mochi.Stats) int64 { return s.Connections }},
		{"mqtt_accepted_total", "TCP connections accepted on the MQTT listeners.", false, func(s mochi.Stats) int64 { return s.Accepted }},
		{"mqtt_accept_failures_total", "Accepts that failed on the MQTT listeners, out of file descriptors typically (the fd limit is logged).", false, func(s mochi.Stats) int64 { return s.AcceptFailures }},
		{"mqtt_handshake_failures_total", "TLS handshakes that failed or timed out.", false, func(s mochi.Stats) int64 { return s.HandshakeFailures }},
		{"mqtt_websocket_upgrades_refused_total", "WebSocket upgrades refused: neither a client certificate nor a valid SigV4 signature.", false, func(s mochi.Stats) int64 { return s.UpgradesRefused }},
		{"mqtt_connects_refused_total", "CONNECTs refused: unknown or inactive certificates, JITP/JITR first connections, iot:Connect denied.", false, func(s mochi.Stats) int64 { return s.Refused }},
		{"mqtt_gate_errors_total", "CONNECTs that failed because authentication failed internally.", false, func(s mochi.Stats) int64 { return s.GateErrors }},
		{"mqtt_kicked_total", "Connections disconnected by revocation or a policy change.", false, func(s mochi.Stats) int64 { return s.Kicked }},
		{"mqtt_protocol_errors_total", "Connections closed for a packet beyond --mqtt-max-packet-size, malformed, or breaking the MQTT protocol (duplicate property, AUTH without a method, PINGREQ with a payload).", false, func(s mochi.Stats) int64 { return s.ProtocolErrors }},
		{"mqtt_engine_panics_total", "Connections ended by a recovered panic in the MQTT engine.", false, func(s mochi.Stats) int64 { return s.Panics }},
		{"mqtt_messages_in_total", "PUBLISH packets from devices, authorized and routed.", false, func(s mochi.Stats) int64 { return s.MessagesIn }},
		{"mqtt_messages_out_total", "PUBLISH packets written to devices.", false, func(s mochi.Stats) int64 { return s.MessagesOut }},
		{"mqtt_messages_published_total", "Server-originated messages (events).", false, func(s mochi.Stats) int64 { return s.Published }},
		{"mqtt_requests_total", "Requests to the device APIs served over MQTT (fleet provisioning).", false, func(s mochi.Stats) int64 { return s.Requests }},
		{"mqtt_requests_throttled_total", "Requests to the device APIs not served: their connection had the most in flight already.", false, func(s mochi.Stats) int64 { return s.RequestsThrottled }},
		{"mqtt_publish_denied_total", "Device PUBLISH packets denied by policy (iot:Publish, iot:RetainPublish).", false, func(s mochi.Stats) int64 { return s.PublishDenied }},
		{"mqtt_subscribe_denied_total", "Topic filters denied by policy (iot:Subscribe).", false, func(s mochi.Stats) int64 { return s.SubscribeDenied }},
		{"mqtt_receive_denied_total", "Deliveries denied by policy (iot:Receive).", false, func(s mochi.Stats) int64 { return s.ReceiveDenied }},
		{"mqtt_messages_dropped_total", "Messages dropped because a device's outbound queue was full.", false, func(s mochi.Stats) int64 { return s.Dropped }},
		{"mqtt_qos1_dropped_total", "QoS 1 messages abandoned before their PUBACK.", false, func(s mochi.Stats) int64 { return s.QoSDropped }},
		{"mqtt_client_id_rejected_total", "CONNECTs refused: client id longer than --mqtt-max-client-id-length.", false, func(s mochi.Stats) int64 { return s.ClientIDRejected }},
		{"mqtt_connects_throttled_total", "CONNECTs refused: the client id connected more often than --mqtt-connect-rate.", false, func(s mochi.Stats) int64 { return s.ConnectThrottled }},
		{"mqtt_connections_limited_total", "CONNECTs refused: --mqtt-max-connections reached.", false, func(s mochi.Stats) int64 { return s.ConnectionsLimited }},
		{"mqtt_topic_rejected_total", "PUBLISH packets and wills refused: topic beyond --mqtt-max-topic-length or --mqtt-max-topic-levels.", false, func(s mochi.Stats) int64 { return s.TopicRejected }},
		{"mqtt_filters_rejected_total", "Topic filters refused: beyond --mqtt-max-topic-length or --mqtt-max-topic-levels.", false, func(s mochi.Stats) int64 { return s.FilterRejected }},
		{"mqtt_subscriptions_limited_total", "Topic filters refused: --mqtt-max-filters-per-subscribe or --mqtt-max-subscriptions.", false, func(s mochi.Stats) int64 { return s.SubscribeLimited }},
		{"mqtt_publish_throttled_total", "Device PUBLISH packets discarded: the connection's --mqtt-publish-rate.", false, func(s mochi.Stats) int64 { return s.PublishThrottled }},
		{"mqtt_deliveries_throttled_total", "Messages not delivered to a device: the connection's --mqtt-publish-rate.", false, func(s mochi.Stats) int64 { return s.DeliveriesThrottled }},
		{"mqtt_inflight_dropped_total", "QoS 1 messages not sent because the device already had the maximum of unacknowledged ones.", false, func(s mochi.Stats) int64 { return s.InflightDropped }},
		{"mqtt_publishers_held_total", "Deliveries a publisher was held back for: the subscriber's queue or QoS 1 window was nearly full.", false, func(s mochi.Stats) int64 { return s.PublishersHeld }},
		{"mqtt_subscribers_stalled_total", "Held deliveries given up on: the subscriber took nothing for --mqtt-stall-timeout.", false, func(s mochi.Stats) int64 { return s.Stalled }},
		{"mqtt_sessions_moved_in_total", "Persistent sessions resumed here from another node of the cluster.", false, func(s mochi.Stats) int64 { return s.SessionsMovedIn }},
		{"mqtt_sessions_handed_over_total", "Persistent sessions handed over to another node of the cluster where the device connected.", false, func(s mochi.Stats) int64 { return s.SessionsHandedOver }},
		{"mqtt_sessions_dropped_total", "Persistent sessions ended because the device connected to another node with a clean session.", false, func(s mochi.Stats) int64 { return s.SessionsDropped }},
		{"mqtt_subscriptions", "Subscriptions held.", true, func(s mochi.Stats) int64 { return s.Subscriptions }},
		{"mqtt_retained_messages", "Retained messages held.", true, func(s mochi.Stats) int64 { return s.Retained }},
		{"mqtt_inflight_messages", "QoS 1 messages awaiting PUBACK, persistent sessions' queues included.", true, func(s mochi.Stats) int64 { return s.Inflight }},
	} {
		read := func() float64 { return float64(c.value(b.Stats())) }
		if c.gauge {
			m.GaugeFunc(c.name, c.help, read)
		} else {
			m.CounterFunc(c.name, c.help, read)
		}
	}
}
