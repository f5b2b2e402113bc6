package main

import (
	"time"

	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/provision"
)

// limits are the limits serve holds devices to: the broker's, and the
// rates of fleet provisioning's operations.
type limits struct {
	MQTT  mochi.Limits
	Fleet provision.FleetRates
}

// limitFlag is one serve flag that sets a field of limits: the one place a
// limit is named between its flag and the component that applies it.
type limitFlag struct {
	name, help string
	int        func(*limits) *int           // an int field, or
	duration   func(*limits) *time.Duration // a duration field
	def        any                          // the flag's default
}

// limitFlags are the MQTT and fleet-provisioning limits, AWS IoT Core's by
// default; -1 turns a count or rate off (docs/configuration.md).
var limitFlags = []limitFlag{
	{name: "mqtt-max-connections", def: 0, int: func(l *limits) *int { return &l.MQTT.MaxConnections },
		help: "most device connections at once (0: AWS's 500000, or fewer when the file-descriptor limit leaves less room; -1: no limit)"},
	{name: "mqtt-connect-rate", def: mochi.DefaultConnectRate, int: func(l *limits) *int { return &l.MQTT.ConnectRate },
		help: "CONNECTs per second allowed one client id after the burst (-1: no limit)"},
	{name: "mqtt-connect-burst", def: mochi.DefaultConnectBurst, int: func(l *limits) *int { return &l.MQTT.ConnectBurst },
		help: "CONNECTs one client id may make at once"},
	{name: "mqtt-publish-rate", def: mochi.DefaultPublishRate, int: func(l *limits) *int { return &l.MQTT.PublishRate },
		help: "PUBLISH packets per second per connection, in and out together; more are discarded (-1: no limit)"},
	{name: "mqtt-max-packet-size", def: mochi.DefaultMaxPacketSize, int: func(l *limits) *int { return &l.MQTT.MaxPacketSize },
		help: "largest MQTT packet, in bytes"},
	{name: "mqtt-max-client-id-length", def: mochi.DefaultMaxClientIDLength, int: func(l *limits) *int { return &l.MQTT.MaxClientIDLength },
		help: "longest client id, in bytes (-1: no limit)"},
	{name: "mqtt-max-topic-length", def: mochi.DefaultMaxTopicLength, int: func(l *limits) *int { return &l.MQTT.MaxTopicLength },
		help: "longest topic name or filter, in bytes, $aws/rules/<rule>/ not counted (-1: no limit)"},
	{name: "mqtt-max-topic-levels", def: mochi.DefaultMaxTopicLevels, int: func(l *limits) *int { return &l.MQTT.MaxTopicLevels },
		help: "most levels in a topic name or filter, $aws/rules/<rule>/ not counted (-1: no limit)"},
	{name: "mqtt-max-filters-per-subscribe", def: mochi.DefaultMaxFiltersPerSubscribe, int: func(l *limits) *int { return &l.MQTT.MaxFiltersPerSubscribe },
		help: "most topic filters in one SUBSCRIBE (-1: no limit)"},
	{name: "mqtt-max-subscriptions", def: mochi.DefaultMaxSubscriptions, int: func(l *limits) *int { return &l.MQTT.MaxSubscriptions },
		help: "most subscriptions per connection (-1: no limit)"},
	{name: "mqtt-keepalive-min", def: mochi.DefaultMinKeepAlive, duration: func(l *limits) *time.Duration { return &l.MQTT.MinKeepAlive },
		help: "shortest keep-alive granted; devices silent for 1.5 times theirs are disconnected"},
	{name: "mqtt-keepalive-max", def: mochi.DefaultMaxKeepAlive, duration: func(l *limits) *time.Duration { return &l.MQTT.MaxKeepAlive },
		help: "longest keep-alive granted, and the one given to devices that ask for none"},
	{name: "mqtt-handshake-timeout", def: mochi.DefaultHandshakeTimeout, duration: func(l *limits) *time.Duration { return &l.MQTT.HandshakeTimeout },
		help: "longest TLS handshake on the MQTT listeners"},
	{name: "mqtt-connect-timeout", def: mochi.DefaultConnectTimeout, duration: func(l *limits) *time.Duration { return &l.MQTT.ConnectTimeout },
		help: "longest wait for the CONNECT packet after the TLS handshake"},
	{name: "mqtt-outbound-queue", def: mochi.DefaultOutboundQueue, int: func(l *limits) *int { return &l.MQTT.OutboundQueue },
		help: "packets that may wait to be written to one device before messages to it are dropped"},
	{name: "mqtt-stall-timeout", def: mochi.DefaultStallTimeout, duration: func(l *limits) *time.Duration { return &l.MQTT.StallTimeout },
		help: "how long a subscriber whose queue is nearly full may take nothing before messages to it are dropped; until then its publishers are held back (negative: drop at once)"},
	{name: "mqtt-websocket-ttl", def: mochi.DefaultWebSocketTTL, duration: func(l *limits) *time.Duration { return &l.MQTT.WebSocketTTL },
		help: "how long a connection over WebSocket may last, as AWS's 24 hours (negative: no limit)"},
	{name: "fleet-create-keys-rate", def: provision.DefaultCreateKeysAndCertificateRate, int: func(l *limits) *int { return &l.Fleet.CreateKeysAndCertificate },
		help: "fleet provisioning's CreateKeysAndCertificate requests served a second, all devices together; more are rejected with 429 Throttling (-1: no limit)"},
	{name: "fleet-create-from-csr-rate", def: provision.DefaultCreateCertificateFromCsrRate, int: func(l *limits) *int { return &l.Fleet.CreateCertificateFromCsr },
		help: "fleet provisioning's CreateCertificateFromCsr requests served a second, all devices together (-1: no limit)"},
	{name: "fleet-register-thing-rate", def: provision.DefaultRegisterThingRate, int: func(l *limits) *int { return &l.Fleet.RegisterThing },
		help: "fleet provisioning's RegisterThing requests served a second, all devices together (-1: no limit)"},
}

// addLimitFlags declares the limit flags on fs.
func addLimitFlags(fs *pflag.FlagSet) {
	for _, f := range limitFlags {
		if f.int != nil {
			fs.Int(f.name, f.def.(int), f.help)
		} else {
			fs.Duration(f.name, f.def.(time.Duration), f.help)
		}
	}
}

// limitsFrom reads the limits from the loaded configuration.
func limitsFrom(k *koanf.Koanf) limits {
	var l limits
	for _, f := range limitFlags {
		if f.int != nil {
			*f.int(&l) = k.Int(f.name)
		} else {
			*f.duration(&l) = k.Duration(f.name)
		}
	}
	return l
}
