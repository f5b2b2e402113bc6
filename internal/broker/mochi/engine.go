package mochi

import (
	"log/slog"
	"math"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// The engine's limits, from AWS IoT Core's quotas [AWS 9].
const (
	// sessionExpiry is how long a persistent session outlives its
	// connection: AWS's default, 1 hour (MQTT 5 clients may ask for less).
	sessionExpiry = 3600
	// receiveMaximum is how many QoS 1 publishes a device may have awaiting
	// our PUBACK: AWS's 100 unacknowledged inbound QoS 1 messages per client.
	receiveMaximum = 100
	// maximumInflight is how many QoS 1 messages mochi holds for one session
	// awaiting their PUBACK or queued while it is offline. AWS sends at most
	// 100 unacknowledged (the device's receive maximum decides here);
	// mochi's default of 8,192 is a lot of memory per offline device.
	maximumInflight = 1000
	// topicAliasMaximum is the inbound topic aliases allowed an MQTT 5 device.
	topicAliasMaximum = 8
	// readBufferSize is the buffer mochi reads each connection's packets
	// through, allocated for every connection. The PUBACKs of the publishes
	// read through one fill of it go out in one write (acks.go): at 512
	// bytes, ~7 per write, and those writes were a tenth of a QoS 1
	// fan-in's CPU; at 2 KiB (mochi's default), ~27, for 1.5 KiB more per
	// connection.
	readBufferSize = 2048
	// writeBufferSize is how much mochi gathers from a device's outbound
	// queue before writing: one full TLS record. It is allocated only while
	// the queue is not empty (mochi's default, 2 KiB, made four times as
	// many records and writes in a burst).
	writeBufferSize = 16 * 1024
)

// sysTopicInterval effectively turns off mochi's $SYS publishing after its
// first: its ticker calls runtime.ReadMemStats (stopping the world) every
// second, and AWS has no $SYS topics (they are never delivered, see
// OnACLCheck).
const sysTopicInterval = math.MaxInt64 / int64(time.Second)

// newServer makes the mochi server with the broker's options. It listens on
// nothing: the broker accepts connections and hands them over.
func newServer(cfg Config, log *slog.Logger) *mqtt.Server {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(cfg.MaxPacketSize) // 0 would be unlimited
	caps.MaximumClientWritesPending = int32(cfg.OutboundQueue)
	caps.MaximumSessionExpiryInterval = sessionExpiry
	// No Message Expiry Interval of our own: mochi stamps a non-zero one
	// on every delivery that had none, as if the publisher had set it,
	// and a message without one must not expire [MQTT-3.3.2-5]. A
	// publisher's own expiry is still honoured, and forwarded with the
	// time left [MQTT-3.3.2-6]. So retained messages are kept until
	// replaced or deleted (AWS: 3 years since their last update), and a
	// persistent session's queued messages go with the session, after
	// sessionExpiry. (mochi's default, 1 day, would delete retained
	// messages after a day.)
	caps.MaximumMessageExpiryInterval = 0
	// Acknowledgements carry no properties of the packet they acknowledge
	// (mochi copies a PUBLISH's user properties into its PUBACK).
	caps.Compatibilities.NoInheritedPropertiesOnAck = true
	caps.ReceiveMaximum = receiveMaximum
	caps.MaximumInflight = maximumInflight
	caps.TopicAliasMaximum = topicAliasMaximum
	caps.MaximumQos = 1      // AWS supports QoS 0 and 1 [AWS 8.2]
	caps.SubIDAvailable = 0  // AWS does not support subscription identifiers
	caps.RetainAvailable = 1 //
	return mqtt.New(&mqtt.Options{
		Capabilities:             caps,
		InlineClient:             true, // for Broker.Publish
		ClientNetReadBufferSize:  readBufferSize,
		ClientNetWriteBufferSize: writeBufferSize,
		Logger:                   slog.New(debugHandler{log.Handler()}).With("component", "mochi"),
		SysTopicResendInterval:   sysTopicInterval,
	})
}
