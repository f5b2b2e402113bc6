// Package mochi is the MQTT data plane's engine adapter: it serves MQTT
// 3.1.1 and 5 over mutual TLS (and over WebSocket over mutual TLS) with
// github.com/mochi-mqtt/server/v2, the only package that imports it, and has
// a [broker.Gate] admit every connection and decide every publish,
// subscribe and delivery, as AWS IoT Core's message broker does.
//
// The package owns what mochi v2.7.9 gets wrong or leaves out:
//
//   - the listeners: our own TCP accept loop with the TLS handshake under a
//     timeout (a client certificate is required, its trust is the gate's;
//     ALPN x-amzn-mqtt-ca, mqtt or none on one port), a deadline for the
//     CONNECT, and shutdown that cannot hang on half-open connections;
//   - recover() around each connection, because malformed packets can panic
//     mochi's decoder (upstream issue 501);
//   - authorization in one hook, with iot:Subscribe and iot:Receive decided
//     apart although mochi asks one callback for both (subscribe.go), and
//     denials answered as AWS answers them (publish.go);
//   - limits set on purpose (packet size, outbound queue, session expiry;
//     engine.go) and the drops counted ([Broker.Stats]);
//   - session takeover made sequential, kicks from any goroutine, CONNACK
//     codes MQTT 3.1.1 clients can read (connect.go).
//
// Comments cite the MQTT specifications as [MQTT-x.y.z-n], and sections of
// the AWS IoT Core behaviour reference (../shared/reference/aws-iot.md from
// the repository) as [AWS n.n].
package mochi
