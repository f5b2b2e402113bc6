// Package packet encodes and decodes MQTT 3.1.1 and MQTT 5 control packets
// for iotcore's own MQTT engine (internal/mqttserver).
//
// It is written for a server that holds many idle connections: a packet is
// read into one buffer of exactly its size, decoded without copying into a
// small struct of its type (no one struct for every kind of packet), and
// encoded by appending to a caller's buffer. Every malformed input returns
// an *Error with the reason code the server answers (0x81 malformed packet,
// 0x82 protocol error, 0x95 packet too large, ...) and a message that says
// what is wrong; nothing panics, whatever the bytes.
//
// Comments cite the specifications' numbered rules as [MQTT-x.y.z-n]: MQTT
// 5.0 (OASIS, 2019) unless they say MQTT 3.1.1.
package packet
