package packet

// DecodeConnect decodes a CONNECT's body (§3.1). An unsupported protocol
// (a name other than MQTT, or a level other than 4 and 5) returns the
// packet read so far and an *Error with code UnsupportedProtocolVersion,
// which the server answers with a CONNACK in the client's own version
// [MQTT-3.1.2-2].
func DecodeConnect(body []byte) (*Connect, error) {
	r := reader{b: body}
	name := r.binary()
	level := r.byte()
	if r.err != nil {
		return nil, r.err
	}
	c := &Connect{Version: level}
	if string(name) != "MQTT" || level != Version311 && level != Version5 {
		if string(name) == "MQIsdp" {
			c.Version = 3
		}
		return c, &Error{Code: UnsupportedProtocolVersion, Msg: "unsupported protocol " + quote(name) + " level " + itoa(int(level))}
	}
	flags := r.byte()
	c.KeepAlive = r.uint16()
	if r.err != nil {
		return nil, r.err
	}
	if flags&0x01 != 0 {
		return nil, malformed("CONNECT reserved flag set") // [MQTT-3.1.2-3]
	}
	c.Clean = flags&0x02 != 0
	hasWill := flags&0x04 != 0
	willQoS := flags >> 3 & 0x3
	willRetain := flags&0x20 != 0
	c.HasPassword = flags&0x40 != 0
	c.HasUsername = flags&0x80 != 0
	switch {
	case !hasWill && (willQoS != 0 || willRetain):
		return nil, malformed("CONNECT will QoS or retain without a will") // [MQTT-3.1.2-11] [MQTT-3.1.2-13]
	case willQoS == 3:
		return nil, malformed("CONNECT will QoS 3") // [MQTT-3.1.2-12]
	case level == Version311 && c.HasPassword && !c.HasUsername:
		return nil, protocolError("CONNECT password without a user name") // MQTT 3.1.1 [MQTT-3.1.2-22]
	}
	if level == Version5 {
		r.readProperties(&c.Props, CONNECT)
	}
	c.ClientID = r.string()
	if hasWill {
		w := &Will{QoS: willQoS, Retain: willRetain}
		if level == Version5 {
			r.readProperties(&w.Props, will)
		}
		w.Topic = r.string()
		w.Payload = r.binary()
		c.Will = w
	}
	if c.HasUsername {
		c.Username = r.string()
	}
	if c.HasPassword {
		c.Password = r.binary()
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, malformed("CONNECT has %d bytes after its payload", len(r.b))
	}
	return c, nil
}

func quote(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	out := make([]byte, 0, len(b)+2)
	out = append(out, '"')
	for _, c := range b {
		if c < 0x20 || c >= 0x7F || c == '"' {
			c = '?'
		}
		out = append(out, c)
	}
	return string(append(out, '"'))
}

// Append appends the CONNECT, encoded, to dst.
func (c *Connect) Append(dst []byte) []byte {
	n := 2 + 4 + 1 + 1 + 2 + 2 + len(c.ClientID)
	if c.Version == Version5 {
		n += propsSize(&c.Props)
	}
	var flags byte
	if c.Clean {
		flags |= 0x02
	}
	if w := c.Will; w != nil {
		flags |= 0x04 | w.QoS<<3
		if w.Retain {
			flags |= 0x20
		}
		n += 2 + len(w.Topic) + 2 + len(w.Payload)
		if c.Version == Version5 {
			n += propsSize(&w.Props)
		}
	}
	if c.HasUsername {
		flags |= 0x80
		n += 2 + len(c.Username)
	}
	if c.HasPassword {
		flags |= 0x40
		n += 2 + len(c.Password)
	}
	dst = appendHeader(dst, CONNECT, 0, n)
	dst = appendString(dst, "MQTT")
	dst = append(dst, c.Version, flags, byte(c.KeepAlive>>8), byte(c.KeepAlive))
	if c.Version == Version5 {
		dst = appendProperties(dst, &c.Props)
	}
	dst = appendString(dst, c.ClientID)
	if w := c.Will; w != nil {
		if c.Version == Version5 {
			dst = appendProperties(dst, &w.Props)
		}
		dst = appendString(dst, w.Topic)
		dst = appendBinary(dst, w.Payload)
	}
	if c.HasUsername {
		dst = appendString(dst, c.Username)
	}
	if c.HasPassword {
		dst = appendBinary(dst, c.Password)
	}
	return dst
}

// propsSize is the size of p encoded with its Property Length.
func propsSize(p *Properties) int {
	n := propertiesSize(p)
	return varintSize(n) + n
}

// Append appends the CONNACK, encoded for protocol version, to dst.
func (c *Connack) Append(dst []byte, version byte) []byte {
	n := 2
	if version == Version5 {
		n += propsSize(&c.Props)
	}
	dst = appendHeader(dst, CONNACK, 0, n)
	var flags byte
	if c.SessionPresent {
		flags = 1
	}
	dst = append(dst, flags, c.Code)
	if version == Version5 {
		dst = appendProperties(dst, &c.Props)
	}
	return dst
}

// DecodeConnack decodes a CONNACK's body (for clients and tests).
func DecodeConnack(body []byte, version byte) (*Connack, error) {
	r := reader{b: body}
	flags := r.byte()
	c := &Connack{SessionPresent: flags&1 != 0, Code: r.byte()}
	if r.err == nil && flags&^1 != 0 {
		return nil, malformed("CONNACK reserved flags 0x%02X", flags) // [MQTT-3.2.2-1]
	}
	if version == Version5 && len(r.b) > 0 {
		r.readProperties(&c.Props, CONNACK)
	}
	return c, r.done("CONNACK")
}

// done returns the reader's error, or one for bytes left over.
func (r *reader) done(what string) error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return malformed("%s has %d bytes after its end", what, len(r.b))
	}
	return nil
}
