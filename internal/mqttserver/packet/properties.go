package packet

// Property identifiers (MQTT 5 §2.2.2.2).
const (
	PropPayloadFormat       byte = 0x01
	PropMessageExpiry       byte = 0x02
	PropContentType         byte = 0x03
	PropResponseTopic       byte = 0x08
	PropCorrelationData     byte = 0x09
	PropSubscriptionID      byte = 0x0B
	PropSessionExpiry       byte = 0x11
	PropAssignedClientID    byte = 0x12
	PropServerKeepAlive     byte = 0x13
	PropAuthMethod          byte = 0x15
	PropAuthData            byte = 0x16
	PropRequestProblemInfo  byte = 0x17
	PropWillDelay           byte = 0x18
	PropRequestResponseInfo byte = 0x19
	PropResponseInfo        byte = 0x1A
	PropServerReference     byte = 0x1C
	PropReasonString        byte = 0x1F
	PropReceiveMaximum      byte = 0x21
	PropTopicAliasMaximum   byte = 0x22
	PropTopicAlias          byte = 0x23
	PropMaximumQoS          byte = 0x24
	PropRetainAvailable     byte = 0x25
	PropUser                byte = 0x26
	PropMaximumPacketSize   byte = 0x27
	PropWildcardSubAvail    byte = 0x28
	PropSubIDAvail          byte = 0x29
	PropSharedSubAvail      byte = 0x2A
)

// propertyUse says, per property identifier, which packets may carry it
// (a bit per Type; bit 0 stands for the Will Properties) and how it is
// encoded. An identifier with no entry is not a property: malformed.
type propertyUse struct {
	packets uint16
	kind    byte
}

const (
	kindByte = iota + 1
	kindUint16
	kindUint32
	kindVarint
	kindString
	kindBinary
	kindPair
)

// will stands for the Will Properties in propertyUse.packets.
const will Type = 0

func on(types ...Type) uint16 {
	var b uint16
	for _, t := range types {
		b |= 1 << t
	}
	return b
}

var propertyUses = [0x2B]propertyUse{
	PropPayloadFormat:       {on(PUBLISH, will), kindByte},
	PropMessageExpiry:       {on(PUBLISH, will), kindUint32},
	PropContentType:         {on(PUBLISH, will), kindString},
	PropResponseTopic:       {on(PUBLISH, will), kindString},
	PropCorrelationData:     {on(PUBLISH, will), kindBinary},
	PropSubscriptionID:      {on(PUBLISH, SUBSCRIBE), kindVarint},
	PropSessionExpiry:       {on(CONNECT, CONNACK, DISCONNECT), kindUint32},
	PropAssignedClientID:    {on(CONNACK), kindString},
	PropServerKeepAlive:     {on(CONNACK), kindUint16},
	PropAuthMethod:          {on(CONNECT, CONNACK, AUTH), kindString},
	PropAuthData:            {on(CONNECT, CONNACK, AUTH), kindBinary},
	PropRequestProblemInfo:  {on(CONNECT), kindByte},
	PropWillDelay:           {on(will), kindUint32},
	PropRequestResponseInfo: {on(CONNECT), kindByte},
	PropResponseInfo:        {on(CONNACK), kindString},
	PropServerReference:     {on(CONNACK, DISCONNECT), kindString},
	PropReasonString:        {on(CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH), kindString},
	PropReceiveMaximum:      {on(CONNECT, CONNACK), kindUint16},
	PropTopicAliasMaximum:   {on(CONNECT, CONNACK), kindUint16},
	PropTopicAlias:          {on(PUBLISH), kindUint16},
	PropMaximumQoS:          {on(CONNACK), kindByte},
	PropRetainAvailable:     {on(CONNACK), kindByte},
	PropUser:                {on(will, CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH), kindPair},
	PropMaximumPacketSize:   {on(CONNECT, CONNACK), kindUint32},
	PropWildcardSubAvail:    {on(CONNACK), kindByte},
	PropSubIDAvail:          {on(CONNACK), kindByte},
	PropSharedSubAvail:      {on(CONNACK), kindByte},
}

// UserProperty is a User Property's name and value.
type UserProperty struct{ Key, Value string }

// Properties are an MQTT 5 packet's properties. Which are present is kept
// apart from their values (Has), since a property's zero value is a value.
// A decoded packet's strings and byte slices share the packet's buffer.
type Properties struct {
	present uint64 // bit per property identifier

	PayloadFormat       byte
	RequestProblemInfo  byte
	RequestResponseInfo byte
	MaximumQoS          byte
	RetainAvailable     byte
	WildcardSubAvail    byte
	SubIDAvail          byte
	SharedSubAvail      byte
	ServerKeepAlive     uint16
	ReceiveMaximum      uint16
	TopicAliasMaximum   uint16
	TopicAlias          uint16
	MessageExpiry       uint32
	SessionExpiry       uint32
	WillDelay           uint32
	MaximumPacketSize   uint32
	ContentType         string
	ResponseTopic       string
	AssignedClientID    string
	AuthMethod          string
	ResponseInfo        string
	ServerReference     string
	ReasonString        string
	CorrelationData     []byte
	AuthData            []byte
	SubscriptionIDs     []int
	User                []UserProperty
}

// Has reports whether the property with identifier id is present.
func (p *Properties) Has(id byte) bool { return id < 64 && p.present&(1<<id) != 0 }

// Set marks the property with identifier id present (its value is the
// field's); Clear marks it absent.
func (p *Properties) Set(id byte)   { p.present |= 1 << id }
func (p *Properties) Clear(id byte) { p.present &^= 1 << id }

// Empty reports whether no property is present.
func (p *Properties) Empty() bool { return p.present == 0 }

// readProperties reads a Property Length and the properties after it
// (§2.2.2), allowed in a packet of type t.
func (r *reader) readProperties(p *Properties, t Type) {
	n := r.varint()
	if r.err != nil {
		return
	}
	if n > len(r.b) {
		r.err = malformed("%s property length %d exceeds the %d bytes left", t, n, len(r.b))
		return
	}
	end := len(r.b) - n
	for len(r.b) > end && r.err == nil {
		id := r.varint() // identifiers are Variable Byte Integers (§2.2.2.2)
		if r.err != nil {
			return
		}
		if id >= len(propertyUses) || propertyUses[id].kind == 0 {
			r.err = malformed("%s: unknown property 0x%02X", t, id)
			return
		}
		use := propertyUses[id]
		if use.packets&(1<<t) == 0 {
			what := t.String()
			if t == will {
				what = "will"
			}
			r.err = protocolError("%s may not carry property 0x%02X", what, id)
			return
		}
		repeatable := byte(id) == PropUser || byte(id) == PropSubscriptionID && t == PUBLISH
		if p.Has(byte(id)) && !repeatable {
			r.err = protocolError("%s: property 0x%02X given more than once", t, id)
			return
		}
		p.Set(byte(id))
		r.readProperty(p, byte(id), use.kind)
		if len(r.b) < end && r.err == nil {
			r.err = malformed("%s: property 0x%02X runs past the property length", t, id)
		}
	}
	if r.err == nil {
		r.checkPropertyValues(p, t)
	}
}

func (r *reader) readProperty(p *Properties, id byte, kind byte) {
	switch id {
	case PropPayloadFormat:
		p.PayloadFormat = r.byte()
	case PropRequestProblemInfo:
		p.RequestProblemInfo = r.byte()
	case PropRequestResponseInfo:
		p.RequestResponseInfo = r.byte()
	case PropMaximumQoS:
		p.MaximumQoS = r.byte()
	case PropRetainAvailable:
		p.RetainAvailable = r.byte()
	case PropWildcardSubAvail:
		p.WildcardSubAvail = r.byte()
	case PropSubIDAvail:
		p.SubIDAvail = r.byte()
	case PropSharedSubAvail:
		p.SharedSubAvail = r.byte()
	case PropServerKeepAlive:
		p.ServerKeepAlive = r.uint16()
	case PropReceiveMaximum:
		p.ReceiveMaximum = r.uint16()
	case PropTopicAliasMaximum:
		p.TopicAliasMaximum = r.uint16()
	case PropTopicAlias:
		p.TopicAlias = r.uint16()
	case PropMessageExpiry:
		p.MessageExpiry = r.uint32()
	case PropSessionExpiry:
		p.SessionExpiry = r.uint32()
	case PropWillDelay:
		p.WillDelay = r.uint32()
	case PropMaximumPacketSize:
		p.MaximumPacketSize = r.uint32()
	case PropContentType:
		p.ContentType = r.string()
	case PropResponseTopic:
		p.ResponseTopic = r.string()
	case PropAssignedClientID:
		p.AssignedClientID = r.string()
	case PropAuthMethod:
		p.AuthMethod = r.string()
	case PropResponseInfo:
		p.ResponseInfo = r.string()
	case PropServerReference:
		p.ServerReference = r.string()
	case PropReasonString:
		p.ReasonString = r.string()
	case PropCorrelationData:
		p.CorrelationData = r.binary()
	case PropAuthData:
		p.AuthData = r.binary()
	case PropSubscriptionID:
		p.SubscriptionIDs = append(p.SubscriptionIDs, r.varint())
	case PropUser:
		k := r.string()
		v := r.string()
		p.User = append(p.User, UserProperty{k, v})
	}
}

// checkPropertyValues refuses values the specification rules out.
func (r *reader) checkPropertyValues(p *Properties, t Type) {
	switch {
	case p.Has(PropPayloadFormat) && p.PayloadFormat > 1:
		r.err = protocolError("%s: payload format indicator %d is neither 0 nor 1", t, p.PayloadFormat)
	case p.Has(PropRequestProblemInfo) && p.RequestProblemInfo > 1:
		r.err = protocolError("request problem information %d is neither 0 nor 1", p.RequestProblemInfo)
	case p.Has(PropRequestResponseInfo) && p.RequestResponseInfo > 1:
		r.err = protocolError("request response information %d is neither 0 nor 1", p.RequestResponseInfo)
	case p.Has(PropReceiveMaximum) && p.ReceiveMaximum == 0:
		r.err = protocolError("%s: receive maximum 0", t)
	case p.Has(PropMaximumPacketSize) && p.MaximumPacketSize == 0:
		r.err = protocolError("%s: maximum packet size 0", t)
	case p.Has(PropSubscriptionID) && hasZero(p.SubscriptionIDs):
		r.err = protocolError("%s: subscription identifier 0", t)
	case p.Has(PropAuthData) && !p.Has(PropAuthMethod):
		r.err = protocolError("%s: authentication data without a method", t)
	}
}

func hasZero(ids []int) bool {
	for _, id := range ids {
		if id == 0 {
			return true
		}
	}
	return false
}

// appendProperties appends p's Property Length and properties.
func appendProperties(dst []byte, p *Properties) []byte {
	n := propertiesSize(p)
	dst = appendVarint(dst, n)
	if n == 0 {
		return dst
	}
	for id := byte(1); id < byte(len(propertyUses)); id++ {
		if !p.Has(id) {
			continue
		}
		switch id {
		case PropSubscriptionID:
			for _, v := range p.SubscriptionIDs {
				dst = append(dst, id)
				dst = appendVarint(dst, v)
			}
			continue
		case PropUser:
			for _, u := range p.User {
				dst = append(dst, id)
				dst = appendString(dst, u.Key)
				dst = appendString(dst, u.Value)
			}
			continue
		}
		dst = append(dst, id)
		switch propertyUses[id].kind {
		case kindByte:
			dst = append(dst, p.byteValue(id))
		case kindUint16:
			v := p.uint16Value(id)
			dst = append(dst, byte(v>>8), byte(v))
		case kindUint32:
			v := p.uint32Value(id)
			dst = append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		case kindString:
			dst = appendString(dst, p.stringValue(id))
		case kindBinary:
			dst = appendBinary(dst, p.binaryValue(id))
		}
	}
	return dst
}

// propertiesSize is the encoded size of p's properties, without the
// Property Length.
func propertiesSize(p *Properties) int {
	if p.present == 0 {
		return 0
	}
	n := 0
	for id := byte(1); id < byte(len(propertyUses)); id++ {
		if !p.Has(id) {
			continue
		}
		switch id {
		case PropSubscriptionID:
			for _, v := range p.SubscriptionIDs {
				n += 1 + varintSize(v)
			}
			continue
		case PropUser:
			for _, u := range p.User {
				n += 1 + 2 + len(u.Key) + 2 + len(u.Value)
			}
			continue
		}
		n++
		switch propertyUses[id].kind {
		case kindByte:
			n++
		case kindUint16:
			n += 2
		case kindUint32:
			n += 4
		case kindString:
			n += 2 + len(p.stringValue(id))
		case kindBinary:
			n += 2 + len(p.binaryValue(id))
		}
	}
	return n
}

func (p *Properties) byteValue(id byte) byte {
	switch id {
	case PropPayloadFormat:
		return p.PayloadFormat
	case PropRequestProblemInfo:
		return p.RequestProblemInfo
	case PropRequestResponseInfo:
		return p.RequestResponseInfo
	case PropMaximumQoS:
		return p.MaximumQoS
	case PropRetainAvailable:
		return p.RetainAvailable
	case PropWildcardSubAvail:
		return p.WildcardSubAvail
	case PropSubIDAvail:
		return p.SubIDAvail
	case PropSharedSubAvail:
		return p.SharedSubAvail
	}
	return 0
}

func (p *Properties) uint16Value(id byte) uint16 {
	switch id {
	case PropServerKeepAlive:
		return p.ServerKeepAlive
	case PropReceiveMaximum:
		return p.ReceiveMaximum
	case PropTopicAliasMaximum:
		return p.TopicAliasMaximum
	case PropTopicAlias:
		return p.TopicAlias
	}
	return 0
}

func (p *Properties) uint32Value(id byte) uint32 {
	switch id {
	case PropMessageExpiry:
		return p.MessageExpiry
	case PropSessionExpiry:
		return p.SessionExpiry
	case PropWillDelay:
		return p.WillDelay
	case PropMaximumPacketSize:
		return p.MaximumPacketSize
	}
	return 0
}

func (p *Properties) stringValue(id byte) string {
	switch id {
	case PropContentType:
		return p.ContentType
	case PropResponseTopic:
		return p.ResponseTopic
	case PropAssignedClientID:
		return p.AssignedClientID
	case PropAuthMethod:
		return p.AuthMethod
	case PropResponseInfo:
		return p.ResponseInfo
	case PropServerReference:
		return p.ServerReference
	case PropReasonString:
		return p.ReasonString
	}
	return ""
}

func (p *Properties) binaryValue(id byte) []byte {
	switch id {
	case PropCorrelationData:
		return p.CorrelationData
	case PropAuthData:
		return p.AuthData
	}
	return nil
}
