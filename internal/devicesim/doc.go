// Package devicesim is the device simulator behind `iotcore device run`: an
// MQTT 5 client (github.com/eclipse/paho.golang) that connects over mutual
// TLS as a device would, retries with backoff when the server drops the
// connection before CONNACK (what AWS IoT and iotcore do to a device's first,
// just-in-time provisioning or registration, connection), subscribes,
// publishes and receives, and says at each step what happened and why:
// which certificate it presents, how far the connection got, what a CONNACK,
// SUBACK, PUBACK or DISCONNECT reason code means for an AWS IoT device, and
// what to check next.
//
// A failed run returns an [*Error] whose [Kind] is the exit code of the
// command: network or TLS failure, connection always dropped, refused by
// policy, disconnected, messages not received.
//
// The simulator owns every goroutine it starts (paho's, through the client's
// Done channel) and has stopped them when Run returns.
package devicesim
