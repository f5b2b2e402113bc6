// Package mqttserver is iotcore's own MQTT 3.1.1 and MQTT 5 server engine:
// sessions, QoS 0 and 1, retained messages, wills, topic aliases, session
// takeover and expiry, and flow control, with every decision about a
// device (may it connect, publish, subscribe, receive) left to the Hooks
// of the adapter that embeds it.
//
// It exists for issue 17's memory target: an idle connection must cost at
// most 40 KiB, where mochi-mqtt's two goroutines per client and a reader
// that parks 16 KiB deep cost 60–70. Here an idle connection has one
// goroutine, parked a few frames above its TLS read, and nothing else:
// no read buffer (a packet is read into a buffer of its own size, which
// goes when it is handled), no outbound queue (it is grown by the first
// packet that must wait, and dropped when drained), no writer goroutine
// (the goroutine that queues a packet for an idle connection writes it;
// a writer runs only while a connection has more than it could write at
// once).
//
// The engine serves connections it is handed (ServeConn): listeners, TLS,
// limits and policy belong to the adapter. Packets are encoded and decoded
// by the packet package; topic filters and retained messages are kept by
// the topictree package.
//
// Comments cite the MQTT specifications as [MQTT-x.y.z-n] (MQTT 5 unless
// they say 3.1.1).
package mqttserver
