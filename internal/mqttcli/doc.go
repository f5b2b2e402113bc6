// Package mqttcli is the operator's MQTT client behind `iotcore mqtt sub`
// and `iotcore mqtt pub`: MQTT 3.1.1 (github.com/eclipse/paho.mqtt.golang)
// over WebSocket, authenticated as an AWS IAM identity is on AWS IoT Core,
// with a SigV4-presigned wss://<endpoint>/mqtt URL (service
// iotdevicegateway), presigned again for every connection attempt; and the
// formats in which it prints the messages it receives.
//
// It is a client: it imports none of the server's packages, only the AWS
// SDK's signer and credentials, and the MQTT client.
package mqttcli
