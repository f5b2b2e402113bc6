// Package mochi is the MQTT data plane's engine adapter: it serves MQTT
// 3.1.1 and 5 over mutual TLS, and over WebSocket over TLS (a client
// certificate, or a SigV4-presigned URL checked by Config.WebSocketAuth),
// on one of two engines (Config.Engine): iotcore's own, internal/mqttserver,
// the default, whose Hooks are in iotcore.go; or
// github.com/mochi-mqtt/server/v2 (v2.7.9), which this is the only package
// to import, through the mochi hook (hook.go and the files below). A
// [broker.Gate] admits every connection and decides every publish,
// subscribe and delivery, and denials are answered as AWS IoT Core answers
// them, on either engine: the package's tests run on both.
//
// (The package keeps the name it had when mochi was its only engine; once
// mochi goes, it is the mqtt adapter.)
//
// Open binds the listeners; Serve runs until its context ends; Publish
// sends server-originated messages (AWS events) to the subscribers allowed
// to receive them; Stats returns counters for metrics.
//
// What this package does because mochi v2.7.9 does not, or does wrong (the
// iotcore engine does these itself, or needs none of them):
//
//   - listener.go, rawconn.go, serve.go: our own accept loops, the TLS
//     handshake under a timeout (a client certificate is required, its
//     trust is the gate's; ALPN x-amzn-mqtt-ca, mqtt or none on one port),
//     a deadline until CONNECT, recover() around each connection (malformed
//     packets panic mochi's decoder: upstream issue 501), and a shutdown
//     that cannot hang on half-open connections;
//   - accept.go: accept failures (out of file descriptors) counted and
//     logged once per interval; limits.go derives the default maximum of
//     connections from the file-descriptor limit;
//   - frames.go: the inbound byte stream checked where mochi's decoder does
//     not: packet size counted whole, duplicate properties, over-long
//     lengths, AUTH, PINGREQ with a payload (a malformed packet closes the
//     connection);
//   - hook.go: one hook, the only one that authorizes (mochi ORs its auth
//     callbacks across hooks);
//   - connect.go: the gate's refusals (CONNACK codes MQTT 3.1.1 clients can
//     read), AWS's keep-alive range, sequential session takeover, and
//     iot:Receive decided again when a persistent session resumes; no QoS 2
//     wills, no enhanced authentication;
//   - publish.go: iot:Publish and iot:RetainPublish where the topic is known,
//     wills included, denials per protocol version, no QoS 2, PUBACK 0x00
//     (not mochi's 0x01);
//   - subscribe.go: iot:Subscribe and iot:Receive decided apart although
//     mochi asks one callback for both; mochi's $SYS topics never delivered;
//   - conn.go: kicks from any goroutine; engine.go: limits set on purpose
//     (packet size, outbound queue, session expiry, no message expiry of
//     its own), acknowledgements without inherited properties, drops
//     counted;
//   - limits.go: AWS IoT Core's quotas, enforced where each applies (client
//     id length, connect rate per client id and maximum connections at
//     CONNECT; topic limits and publish rate in publish.go; filters per
//     SUBSCRIBE, subscriptions per connection and delivery rate in
//     subscribe.go), answered per protocol version, counted and logged;
//   - websocket.go: a WebSocket listener that keeps the TLS state, and
//     refuses (403) an upgrade with neither a certificate nor a signature.
//
// Comments cite the MQTT specifications as [MQTT-x.y.z-n], and sections of
// the AWS IoT Core behaviour reference (../shared/reference/aws-iot.md from
// the repository) as [AWS n.n].
package mochi
