package packet

// DecodeDisconnect decodes a DISCONNECT's body (§3.14): empty in MQTT
// 3.1.1; in MQTT 5 a Reason Code, left out when 0x00 without properties
// [MQTT-3.14.2.1], and properties.
func DecodeDisconnect(body []byte, version byte) (*Disconnect, error) {
	return decodeReasoned(DISCONNECT, body, version)
}

// DecodeAuth decodes an MQTT 5 AUTH's body (§3.15), whose shape is
// DISCONNECT's.
func DecodeAuth(body []byte) (*Auth, error) {
	d, err := decodeReasoned(AUTH, body, Version5)
	if err != nil {
		return nil, err
	}
	return &Auth{Code: d.Code, Props: d.Props}, nil
}

func decodeReasoned(t Type, body []byte, version byte) (*Disconnect, error) {
	d := &Disconnect{}
	if version != Version5 {
		if len(body) != 0 {
			return nil, malformed("%s has a remaining length of %d, not 0", t, len(body))
		}
		return d, nil
	}
	r := reader{b: body}
	if len(r.b) > 0 {
		d.Code = r.byte()
	}
	if len(r.b) > 0 {
		r.readProperties(&d.Props, t)
	}
	return d, r.done(t.String())
}

// Append appends the DISCONNECT, encoded for version, to dst. In MQTT
// 3.1.1 only a client sends one, and it has no body.
func (d *Disconnect) Append(dst []byte, version byte) []byte {
	if version != Version5 || d.Code == NormalDisconnection && d.Props.Empty() {
		return append(dst, byte(DISCONNECT)<<4, 0)
	}
	// The Property Length is written even when 0 (see Ack.Append).
	dst = appendHeader(dst, DISCONNECT, 0, 1+propsSize(&d.Props))
	dst = append(dst, d.Code)
	return appendProperties(dst, &d.Props)
}

// AppendPingreq and AppendPingresp append a PINGREQ and a PINGRESP
// (§3.12, §3.13): a fixed header alone.
func AppendPingreq(dst []byte) []byte  { return append(dst, byte(PINGREQ)<<4, 0) }
func AppendPingresp(dst []byte) []byte { return append(dst, byte(PINGRESP)<<4, 0) }
