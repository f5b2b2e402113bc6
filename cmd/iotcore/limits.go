package main

import (
	"time"

	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/iotcore/iotcore/internal/broker/mochi"
)

// limitFlag is one serve flag that sets a field of mochi.Limits: the one
// place a limit is named between its flag and the engine.
type limitFlag struct {
	name, help string
	int        func(*mochi.Limits) *int           // an int field, or
	duration   func(*mochi.Limits) *time.Duration // a duration field
	def        any                                // the flag's default
}

// limitFlags are the MQTT limits, AWS IoT Core's by default; -1 turns a
// count or rate off (docs/configuration.md).
var limitFlags = []limitFlag{
	{name: "mqtt-max-connections", def: 0, int: func(l *mochi.Limits) *int { return &l.MaxConnections },
		help: "most device connections at once (0: AWS's 500000, or fewer when the file-descriptor limit leaves less room; -1: no limit)"},
	{name: "mqtt-connect-rate", def: mochi.DefaultConnectRate, int: func(l *mochi.Limits) *int { return &l.ConnectRate },
		help: "CONNECTs per second allowed one client id after the burst (-1: no limit)"},
	{name: "mqtt-connect-burst", def: mochi.DefaultConnectBurst, int: func(l *mochi.Limits) *int { return &l.ConnectBurst },
		help: "CONNECTs one client id may make at once"},
	{name: "mqtt-publish-rate", def: mochi.DefaultPublishRate, int: func(l *mochi.Limits) *int { return &l.PublishRate },
		help: "PUBLISH packets per second per connection, in and out together; more are discarded (-1: no limit)"},
	{name: "mqtt-max-packet-size", def: mochi.DefaultMaxPacketSize, int: func(l *mochi.Limits) *int { return &l.MaxPacketSize },
		help: "largest MQTT packet, in bytes"},
	{name: "mqtt-max-client-id-length", def: mochi.DefaultMaxClientIDLength, int: func(l *mochi.Limits) *int { return &l.MaxClientIDLength },
		help: "longest client id, in bytes (-1: no limit)"},
	{name: "mqtt-max-topic-length", def: mochi.DefaultMaxTopicLength, int: func(l *mochi.Limits) *int { return &l.MaxTopicLength },
		help: "longest topic name or filter, in bytes, $aws/rules/<rule>/ not counted (-1: no limit)"},
	{name: "mqtt-max-topic-levels", def: mochi.DefaultMaxTopicLevels, int: func(l *mochi.Limits) *int { return &l.MaxTopicLevels },
		help: "most levels in a topic name or filter, $aws/rules/<rule>/ not counted (-1: no limit)"},
	{name: "mqtt-max-filters-per-subscribe", def: mochi.DefaultMaxFiltersPerSubscribe, int: func(l *mochi.Limits) *int { return &l.MaxFiltersPerSubscribe },
		help: "most topic filters in one SUBSCRIBE (-1: no limit)"},
	{name: "mqtt-max-subscriptions", def: mochi.DefaultMaxSubscriptions, int: func(l *mochi.Limits) *int { return &l.MaxSubscriptions },
		help: "most subscriptions per connection (-1: no limit)"},
	{name: "mqtt-keepalive-min", def: mochi.DefaultMinKeepAlive, duration: func(l *mochi.Limits) *time.Duration { return &l.MinKeepAlive },
		help: "shortest keep-alive granted; devices silent for 1.5 times theirs are disconnected"},
	{name: "mqtt-keepalive-max", def: mochi.DefaultMaxKeepAlive, duration: func(l *mochi.Limits) *time.Duration { return &l.MaxKeepAlive },
		help: "longest keep-alive granted, and the one given to devices that ask for none"},
	{name: "mqtt-handshake-timeout", def: mochi.DefaultHandshakeTimeout, duration: func(l *mochi.Limits) *time.Duration { return &l.HandshakeTimeout },
		help: "longest TLS handshake on the MQTT listeners"},
	{name: "mqtt-connect-timeout", def: mochi.DefaultConnectTimeout, duration: func(l *mochi.Limits) *time.Duration { return &l.ConnectTimeout },
		help: "longest wait for the CONNECT packet after the TLS handshake"},
	{name: "mqtt-outbound-queue", def: mochi.DefaultOutboundQueue, int: func(l *mochi.Limits) *int { return &l.OutboundQueue },
		help: "packets that may wait to be written to one device before messages to it are dropped"},
	{name: "mqtt-stall-timeout", def: mochi.DefaultStallTimeout, duration: func(l *mochi.Limits) *time.Duration { return &l.StallTimeout },
		help: "how long a subscriber whose queue is nearly full may take nothing before messages to it are dropped; until then its publishers are held back (negative: drop at once)"},
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
func limitsFrom(k *koanf.Koanf) mochi.Limits {
	var l mochi.Limits
	for _, f := range limitFlags {
		if f.int != nil {
			*f.int(&l) = k.Int(f.name)
		} else {
			*f.duration(&l) = k.Duration(f.name)
		}
	}
	return l
}
