package devicesim

import (
	"fmt"
	"strings"
)

// MQTT 5 reason codes the simulator explains [MQTT-2.4].
const (
	codeNotAuthorized        byte = 0x87
	codeServerUnavailable    byte = 0x88
	codeServerBusy           byte = 0x89
	codeClientIDNotValid     byte = 0x85
	codeSessionTakenOver     byte = 0x8E
	codeQuotaExceeded        byte = 0x97
	codeConnectionRateExceed byte = 0x9F
)

var reasonNames = map[byte]string{
	0x00: "success",
	0x01: "granted QoS 1",
	0x02: "granted QoS 2",
	0x04: "disconnect with will message",
	0x10: "no matching subscribers",
	0x80: "unspecified error",
	0x81: "malformed packet",
	0x82: "protocol error",
	0x83: "implementation specific error",
	0x84: "unsupported protocol version",
	0x85: "client identifier not valid",
	0x86: "bad user name or password",
	0x87: "not authorized",
	0x88: "server unavailable",
	0x89: "server busy",
	0x8A: "banned",
	0x8B: "server shutting down",
	0x8C: "bad authentication method",
	0x8D: "keep alive timeout",
	0x8E: "session taken over",
	0x8F: "topic filter invalid",
	0x90: "topic name invalid",
	0x93: "receive maximum exceeded",
	0x94: "topic alias invalid",
	0x95: "packet too large",
	0x96: "message rate too high",
	0x97: "quota exceeded",
	0x98: "administrative action",
	0x99: "payload format invalid",
	0x9A: "retain not supported",
	0x9B: "QoS not supported",
	0x9C: "use another server",
	0x9D: "server moved",
	0x9E: "shared subscriptions not supported",
	0x9F: "connection rate exceeded",
	0xA0: "maximum connect time",
	0xA1: "subscription identifiers not supported",
	0xA2: "wildcard subscriptions not supported",
}

// reason names a reason code: "not authorized (0x87)".
func reason(code byte) string {
	name, ok := reasonNames[code]
	if !ok {
		name = "reason code"
	}
	return fmt.Sprintf("%s (0x%02X)", name, code)
}

// retryableConnack reports whether a refused CONNACK may succeed later.
func retryableConnack(code byte) bool {
	switch code {
	case 0x80, codeServerUnavailable, codeServerBusy, codeQuotaExceeded, codeConnectionRateExceed, 0x8B:
		return true
	}
	return false
}

// reasonString returns the server's reason string [MQTT-3.2.2.3.7], in
// parentheses, unless it only repeats the reason code's name.
func reasonString(s string) string {
	if s == "" {
		return ""
	}
	for _, name := range reasonNames {
		if strings.EqualFold(name, s) {
			return ""
		}
	}
	return " (" + s + ")"
}
