package packet

// DecodePublish decodes a PUBLISH (§3.3) with fixed header flags flags.
// Its topic and payload share body.
func DecodePublish(flags byte, body []byte, version byte) (*Publish, error) {
	p := &Publish{Dup: flags&0x8 != 0, QoS: flags >> 1 & 0x3, Retain: flags&0x1 != 0}
	switch {
	case p.QoS == 3:
		return nil, malformed("PUBLISH QoS 3") // [MQTT-3.3.1-4]
	case p.QoS == 0 && p.Dup:
		return nil, protocolError("PUBLISH QoS 0 with DUP set") // [MQTT-3.3.1-2]
	}
	r := reader{b: body}
	p.Topic = r.string()
	if p.QoS > 0 {
		p.PacketID = r.uint16()
		if r.err == nil && p.PacketID == 0 {
			return nil, protocolError("PUBLISH QoS %d with packet identifier 0", p.QoS) // [MQTT-2.2.1-3]
		}
	}
	if version == Version5 {
		r.readProperties(&p.Props, PUBLISH)
	}
	if r.err != nil {
		return nil, r.err
	}
	p.Payload = r.b
	return p, nil
}

// Size is the size of the PUBLISH encoded for version, fixed header
// included.
func (p *Publish) Size(version byte) int {
	n := p.remaining(version)
	return 1 + varintSize(n) + n
}

func (p *Publish) remaining(version byte) int {
	n := 2 + len(p.Topic) + len(p.Payload)
	if p.QoS > 0 {
		n += 2
	}
	if version == Version5 {
		n += propsSize(&p.Props)
	}
	return n
}

// Append appends the PUBLISH, encoded for version, to dst.
func (p *Publish) Append(dst []byte, version byte) []byte {
	flags := p.QoS << 1
	if p.Dup {
		flags |= 0x8
	}
	if p.Retain {
		flags |= 0x1
	}
	dst = appendHeader(dst, PUBLISH, flags, p.remaining(version))
	dst = appendString(dst, p.Topic)
	if p.QoS > 0 {
		dst = append(dst, byte(p.PacketID>>8), byte(p.PacketID))
	}
	if version == Version5 {
		dst = appendProperties(dst, &p.Props)
	}
	return append(dst, p.Payload...)
}

// DecodeAck decodes a PUBACK, PUBREC, PUBREL or PUBCOMP (§3.4–3.7). In
// MQTT 5 the Reason Code may be left out when it is 0x00 and there are no
// properties [MQTT-3.4.2.1], and the properties when there are none.
func DecodeAck(t Type, body []byte, version byte) (*Ack, error) {
	r := reader{b: body}
	a := &Ack{Type: t, PacketID: r.uint16()}
	if r.err == nil && a.PacketID == 0 {
		return nil, protocolError("%s with packet identifier 0", t)
	}
	if version == Version5 {
		if len(r.b) > 0 {
			a.Code = r.byte()
		}
		if len(r.b) > 0 {
			r.readProperties(&a.Props, t)
		}
	}
	return a, r.done(t.String())
}

// Append appends the acknowledgement, encoded for version, to dst. In
// MQTT 5 a success without properties is two bytes long, as §3.4.2.1
// allows and every client accepts.
func (a *Ack) Append(dst []byte, version byte) []byte {
	var flags byte
	if a.Type == PUBREL {
		flags = 0x2
	}
	if version != Version5 || a.Code == Success && a.Props.Empty() {
		dst = appendHeader(dst, a.Type, flags, 2)
		return append(dst, byte(a.PacketID>>8), byte(a.PacketID))
	}
	// The Property Length is written even when 0, which §3.4.2.2.1 lets
	// a sender leave out: some decoders (mochi's) expect it after a
	// Reason Code.
	dst = appendHeader(dst, a.Type, flags, 3+propsSize(&a.Props))
	dst = append(dst, byte(a.PacketID>>8), byte(a.PacketID), a.Code)
	return appendProperties(dst, &a.Props)
}
