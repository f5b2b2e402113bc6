// Package bench is the logic of `iotcore bench`: a load generator for any
// MQTT over mutual TLS endpoint (iotcore, AWS IoT, mosquitto...), built on a
// lean MQTT 3.1.1 client of its own ([Conn]: crypto/tls and a codec, no
// goroutines of its own) so that the client's cost stays small beside the
// server's.
//
// Five scenarios, each a Run function that returns a summary:
//
//   - [RunJITP]: N new devices with fresh certificates from a CA that the
//     server provisions just in time. Each device connects (the server
//     provisions it and drops the connection), reconnects, and publishes
//     once at QoS 1; the summary gives provisioned devices per second and
//     the latency from the first connect to the PUBACK.
//   - [RunFleet]: N new devices sharing a claim certificate onboard by
//     fleet provisioning (AWS IoT's MQTT API, JSON): each connects with the
//     claim, subscribes to the reply topics, gets a certificate with
//     CreateKeysAndCertificate or CreateCertificateFromCsr, registers it
//     with RegisterThing, reconnects with it as its thing and publishes
//     once at QoS 1; the summary gives provisioned devices per second, the
//     latency of the whole and of each step.
//   - [RunConnect]: steady-state mutual-TLS connects per second with one
//     registered certificate: TCP, a full TLS handshake, CONNECT, CONNACK,
//     DISCONNECT, again, from C connections at once, each connect with a
//     new client ID (AWS IoT allows one CONNECT per second per client ID).
//   - [RunPubSub]: P publishers to S subscribers at QoS 0 or 1: delivered
//     messages per second, latency (each payload carries its send time) and
//     loss (each carries its publisher and sequence number).
//   - [RunIdle]: N connections held open for a while, to measure the
//     server's memory per connection; each keeps itself alive (PINGREQ)
//     from its CONNACK on.
//
// [Setup] prepares an iotcore (or AWS IoT) account through the AWS IoT
// API: a CA registered with a JITP template, devices provisioned from it,
// and an identity allowed to subscribe to everything. [SetupFleet]
// prepares fleet provisioning: a claim certificate, its policy and a
// fleet-provisioning template.
//
// Naming follows what AWS IoT policies can scope: devices connect with
// client IDs that start with their certificate's CN (their thing name) and
// publish under it ({cn}/bench); subscribers use a shared filter (+/bench).
//
// # Summaries
//
// Each summary prints for people (WriteText) or as one JSON object on one
// line ([WriteJSON]). Every object has these fields:
//
//	scenario     jitp, fleet, connect, pubsub or idle
//	endpoint     the MQTT server's host:port
//	elapsed_s    the timed part's wall-clock seconds
//	failed       failed operations; failures breaks them down by reason
//	             ("reconnect: dropped before CONNACK": count)
//	interrupted  true when stopped early (SIGINT)
//
// Latencies are objects in milliseconds: count, min, mean, p50, p90, p99,
// max (percentiles from a log-linear histogram, at most 0.8% high).
//
// jitp adds devices, concurrency, key_type, prepare_s (keys and
// certificates made before the clock starts), provisioned,
// first_connection_accepted (devices the server did not drop),
// devices_per_s, latency_ms (first connect to PUBACK) and
// first_connection_ms (first connect until dropped).
//
// fleet adds devices, concurrency, template, mode (create or csr),
// key_type (csr mode), prepare_s (keys and CSRs made before the clock
// starts), provisioned, devices_per_s, latency_ms (claim TCP connect to the
// PUBACK of the publish with the new certificate) and steps_ms: connect,
// subscribe, create, register, reconnect and publish. Its failures name
// the step and the cause: "register: rejected: InvalidParameters" (the
// errorCode of a /rejected answer), "create: no answer in time",
// "subscribe: SUBACK refused".
//
// connect adds concurrency, connects, connects_per_s and latency_ms (TCP
// connect to CONNACK).
//
// pubsub adds qos, publishers, subscribers, payload_bytes, topic, filter,
// published (QoS 1: acknowledged), unacknowledged, expected (published
// times subscribers), delivered (distinct), duplicates, lost (expected
// minus delivered), loss_percent, publish_s, published_per_s,
// delivered_per_s (delivered over elapsed_s, which runs from the first
// publish to the last delivery) and latency_ms (publish to delivery).
//
// idle adds connections, concurrency, established, alive (answered a
// PINGREQ at the end), connect_s, hold_s and latency_ms (TCP connect to
// CONNACK). Its failures name the cause: "connect: tcp connect: too many
// open files" (the generator's own file-descriptor limit), "hold: closed by
// the server" ("...: keep-alive" when the client had been silent past its
// keep-alive), "hold: no PINGRESP in time".
//
// The package reads no files and no flags, and never logs: the command
// line gives it certificates and endpoints and prints what it returns.
package bench
