package packet

// Type is an MQTT control packet type: the high four bits of the first
// byte of its fixed header.
type Type byte

// The control packet types (MQTT 5 §2.1.2).
const (
	CONNECT     Type = 1
	CONNACK     Type = 2
	PUBLISH     Type = 3
	PUBACK      Type = 4
	PUBREC      Type = 5
	PUBREL      Type = 6
	PUBCOMP     Type = 7
	SUBSCRIBE   Type = 8
	SUBACK      Type = 9
	UNSUBSCRIBE Type = 10
	UNSUBACK    Type = 11
	PINGREQ     Type = 12
	PINGRESP    Type = 13
	DISCONNECT  Type = 14
	AUTH        Type = 15
)

var typeNames = [...]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "INVALID"
}

// Protocol levels (the CONNECT's Protocol Version byte).
const (
	Version311 byte = 4
	Version5   byte = 5
)

// Connect is a CONNECT packet (§3.1).
type Connect struct {
	Version   byte // Version311 or Version5
	Clean     bool // Clean Session (3.1.1) or Clean Start (5)
	KeepAlive uint16
	ClientID  string
	Will      *Will // nil without the Will Flag
	Username  string
	Password  []byte
	// HasUsername and HasPassword say whether the flags were set (an empty
	// user name is not no user name).
	HasUsername, HasPassword bool
	Props                    Properties
}

// Will is a CONNECT's Will Message.
type Will struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	Props   Properties // MQTT 5 Will Properties
}

// Connack is a CONNACK packet (§3.2).
type Connack struct {
	SessionPresent bool
	Code           byte // MQTT 5 Reason Code, or an MQTT 3.1.1 return code
	Props          Properties
}

// Publish is a PUBLISH packet (§3.3).
type Publish struct {
	Topic    string // empty in MQTT 5 when a Topic Alias stands for it
	PacketID uint16 // 0 at QoS 0
	QoS      byte
	Retain   bool
	Dup      bool
	Payload  []byte
	Props    Properties
}

// Ack is a PUBACK, PUBREC, PUBREL or PUBCOMP packet (§3.4–3.7): a packet
// identifier, and in MQTT 5 a Reason Code and properties.
type Ack struct {
	Type     Type
	PacketID uint16
	Code     byte
	Props    Properties
}

// Subscription is one Topic Filter of a SUBSCRIBE with its options (§3.8.3.1).
type Subscription struct {
	Filter            string
	QoS               byte
	NoLocal           bool // MQTT 5
	RetainAsPublished bool // MQTT 5
	RetainHandling    byte // MQTT 5: 0, 1 or 2
}

// Subscribe is a SUBSCRIBE packet (§3.8).
type Subscribe struct {
	PacketID      uint16
	Subscriptions []Subscription
	Props         Properties
}

// Suback is a SUBACK packet (§3.9): one reason code per subscription.
type Suback struct {
	PacketID uint16
	Codes    []byte
	Props    Properties
}

// Unsubscribe is an UNSUBSCRIBE packet (§3.10).
type Unsubscribe struct {
	PacketID uint16
	Filters  []string
	Props    Properties
}

// Unsuback is an UNSUBACK packet (§3.11); Codes are MQTT 5 only.
type Unsuback struct {
	PacketID uint16
	Codes    []byte
	Props    Properties
}

// Disconnect is a DISCONNECT packet (§3.14); Code and Props are MQTT 5 only.
type Disconnect struct {
	Code  byte
	Props Properties
}

// Auth is an MQTT 5 AUTH packet (§3.15).
type Auth struct {
	Code  byte
	Props Properties
}
