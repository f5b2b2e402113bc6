package packet

// DecodeSubscribe decodes a SUBSCRIBE's body (§3.8).
func DecodeSubscribe(body []byte, version byte) (*Subscribe, error) {
	r := reader{b: body}
	s := &Subscribe{PacketID: r.uint16()}
	if r.err == nil && s.PacketID == 0 {
		return nil, protocolError("SUBSCRIBE with packet identifier 0") // [MQTT-2.2.1-3]
	}
	if version == Version5 {
		r.readProperties(&s.Props, SUBSCRIBE)
	}
	for len(r.b) > 0 && r.err == nil {
		sub := Subscription{Filter: r.string()}
		opts := r.byte()
		if r.err != nil {
			break
		}
		sub.QoS = opts & 0x3
		if sub.QoS == 3 {
			return nil, malformed("SUBSCRIBE %s with QoS 3", quote([]byte(sub.Filter))) // [MQTT-3.8.3-4] (3.1.1) [MQTT-3-8.3-4]
		}
		if version == Version5 {
			sub.NoLocal = opts&0x4 != 0
			sub.RetainAsPublished = opts&0x8 != 0
			sub.RetainHandling = opts >> 4 & 0x3
			if sub.RetainHandling == 3 {
				return nil, protocolError("SUBSCRIBE retain handling 3")
			}
			if opts&0xC0 != 0 {
				return nil, malformed("SUBSCRIBE reserved option bits set") // [MQTT-3.8.3-5]
			}
		} else if opts&0xFC != 0 {
			return nil, malformed("SUBSCRIBE reserved option bits set") // MQTT 3.1.1 [MQTT-3-8.3-4]
		}
		s.Subscriptions = append(s.Subscriptions, sub)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(s.Subscriptions) == 0 {
		return nil, protocolError("SUBSCRIBE without a topic filter") // [MQTT-3.8.3-2] (3.1.1: [MQTT-3.8.3-3])
	}
	return s, nil
}

// Append appends the SUBSCRIBE, encoded for version, to dst (for clients
// and tests).
func (s *Subscribe) Append(dst []byte, version byte) []byte {
	n := 2
	if version == Version5 {
		n += propsSize(&s.Props)
	}
	for _, sub := range s.Subscriptions {
		n += 2 + len(sub.Filter) + 1
	}
	dst = appendHeader(dst, SUBSCRIBE, 0x2, n)
	dst = append(dst, byte(s.PacketID>>8), byte(s.PacketID))
	if version == Version5 {
		dst = appendProperties(dst, &s.Props)
	}
	for _, sub := range s.Subscriptions {
		dst = appendString(dst, sub.Filter)
		opts := sub.QoS
		if sub.NoLocal {
			opts |= 0x4
		}
		if sub.RetainAsPublished {
			opts |= 0x8
		}
		dst = append(dst, opts|sub.RetainHandling<<4)
	}
	return dst
}

// Append appends the SUBACK, encoded for version, to dst.
func (s *Suback) Append(dst []byte, version byte) []byte {
	n := 2 + len(s.Codes)
	if version == Version5 {
		n += propsSize(&s.Props)
	}
	dst = appendHeader(dst, SUBACK, 0, n)
	dst = append(dst, byte(s.PacketID>>8), byte(s.PacketID))
	if version == Version5 {
		dst = appendProperties(dst, &s.Props)
	}
	return append(dst, s.Codes...)
}

// DecodeSuback decodes a SUBACK's body (for clients and tests).
func DecodeSuback(body []byte, version byte) (*Suback, error) {
	r := reader{b: body}
	s := &Suback{PacketID: r.uint16()}
	if version == Version5 {
		r.readProperties(&s.Props, SUBACK)
	}
	if r.err != nil {
		return nil, r.err
	}
	s.Codes = r.b
	return s, nil
}

// DecodeUnsubscribe decodes an UNSUBSCRIBE's body (§3.10).
func DecodeUnsubscribe(body []byte, version byte) (*Unsubscribe, error) {
	r := reader{b: body}
	u := &Unsubscribe{PacketID: r.uint16()}
	if r.err == nil && u.PacketID == 0 {
		return nil, protocolError("UNSUBSCRIBE with packet identifier 0") // [MQTT-2.2.1-3]
	}
	if version == Version5 {
		r.readProperties(&u.Props, UNSUBSCRIBE)
	}
	for len(r.b) > 0 && r.err == nil {
		u.Filters = append(u.Filters, r.string())
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(u.Filters) == 0 {
		return nil, protocolError("UNSUBSCRIBE without a topic filter") // [MQTT-3.10.3-2]
	}
	return u, nil
}

// Append appends the UNSUBSCRIBE, encoded for version, to dst (for
// clients and tests).
func (u *Unsubscribe) Append(dst []byte, version byte) []byte {
	n := 2
	if version == Version5 {
		n += propsSize(&u.Props)
	}
	for _, f := range u.Filters {
		n += 2 + len(f)
	}
	dst = appendHeader(dst, UNSUBSCRIBE, 0x2, n)
	dst = append(dst, byte(u.PacketID>>8), byte(u.PacketID))
	if version == Version5 {
		dst = appendProperties(dst, &u.Props)
	}
	for _, f := range u.Filters {
		dst = appendString(dst, f)
	}
	return dst
}

// Append appends the UNSUBACK, encoded for version, to dst: in MQTT
// 3.1.1 the packet identifier alone.
func (u *Unsuback) Append(dst []byte, version byte) []byte {
	if version != Version5 {
		dst = appendHeader(dst, UNSUBACK, 0, 2)
		return append(dst, byte(u.PacketID>>8), byte(u.PacketID))
	}
	n := 2 + propsSize(&u.Props) + len(u.Codes)
	dst = appendHeader(dst, UNSUBACK, 0, n)
	dst = append(dst, byte(u.PacketID>>8), byte(u.PacketID))
	dst = appendProperties(dst, &u.Props)
	return append(dst, u.Codes...)
}

// DecodeUnsuback decodes an UNSUBACK's body (for clients and tests).
func DecodeUnsuback(body []byte, version byte) (*Unsuback, error) {
	r := reader{b: body}
	u := &Unsuback{PacketID: r.uint16()}
	if version == Version5 {
		r.readProperties(&u.Props, UNSUBACK)
		u.Codes = r.b
		return u, r.err
	}
	return u, r.done("UNSUBACK")
}
