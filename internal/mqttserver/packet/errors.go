package packet

import "fmt"

// MQTT 5 reason codes (§2.4) this package and the engine use. MQTT 3.1.1
// CONNACK return codes are the Return* constants.
const (
	Success                    byte = 0x00
	GrantedQoS1                byte = 0x01
	NoMatchingSubscribers      byte = 0x10
	NoSubscriptionExisted      byte = 0x11
	UnspecifiedError           byte = 0x80
	MalformedPacket            byte = 0x81
	ProtocolError              byte = 0x82
	ImplementationSpecific     byte = 0x83
	UnsupportedProtocolVersion byte = 0x84
	ClientIDNotValid           byte = 0x85
	BadUsernameOrPassword      byte = 0x86
	NotAuthorized              byte = 0x87
	ServerUnavailable          byte = 0x88
	ServerBusy                 byte = 0x89
	BadAuthenticationMethod    byte = 0x8C
	KeepAliveTimeout           byte = 0x8D
	SessionTakenOver           byte = 0x8E
	TopicFilterInvalid         byte = 0x8F
	TopicNameInvalid           byte = 0x90
	PacketIDInUse              byte = 0x91
	PacketIDNotFound           byte = 0x92
	ReceiveMaximumExceeded     byte = 0x93
	TopicAliasInvalid          byte = 0x94
	PacketTooLarge             byte = 0x95
	MessageRateTooHigh         byte = 0x96
	QuotaExceeded              byte = 0x97
	AdministrativeAction       byte = 0x98
	PayloadFormatInvalid       byte = 0x99
	RetainNotSupported         byte = 0x9A
	QoSNotSupported            byte = 0x9B
	SharedSubsNotSupported     byte = 0x9E
	ConnectionRateExceeded     byte = 0x9F
	SubIDsNotSupported         byte = 0xA1
	WildcardSubsNotSupported   byte = 0xA2
	DisconnectWithWill         byte = 0x04
	NormalDisconnection        byte = 0x00
	ServerShuttingDown         byte = 0x8B
	MaximumConnectTimeExceeded byte = 0xA0
	UseAnotherServer           byte = 0x9C
	ServerMoved                byte = 0x9D
	ContinueAuthentication     byte = 0x18
	ReAuthenticate             byte = 0x19
)

// MQTT 3.1.1 CONNACK return codes (MQTT 3.1.1 §3.2.2.3).
const (
	ReturnAccepted            byte = 0
	ReturnUnacceptableVersion byte = 1
	ReturnIdentifierRejected  byte = 2
	ReturnServerUnavailable   byte = 3
	ReturnBadUsernameOrPasswd byte = 4
	ReturnNotAuthorized       byte = 5
)

// Error is a packet that cannot be accepted: Code is the MQTT 5 reason
// code the server answers with (in a CONNACK before the connection is
// accepted, a DISCONNECT after), and Msg says what is wrong, for the
// operator's log.
type Error struct {
	Code byte
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("mqtt packet: %s (reason 0x%02X)", e.Msg, e.Code) }

func malformed(format string, args ...any) *Error {
	return &Error{Code: MalformedPacket, Msg: fmt.Sprintf(format, args...)}
}

func protocolError(format string, args ...any) *Error {
	return &Error{Code: ProtocolError, Msg: fmt.Sprintf(format, args...)}
}
