// Package broker is iotcore's broker-agnostic data plane: it authenticates a
// TLS peer against the registry's live state (with just-in-time provisioning
// and registration), authorizes every MQTT action against the connection's
// compiled IoT policies, guards the reserved $aws/ topics and emits the AWS
// events. The MQTT engine lives behind an adapter (internal/broker/mochi) that
// consumes the Gate declared here.
package broker
