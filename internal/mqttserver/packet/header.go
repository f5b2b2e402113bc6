package packet

// Header is a packet's fixed header (§2.1.1).
type Header struct {
	Type   Type
	Flags  byte // the low four bits of the first byte
	Length int  // the Remaining Length: the bytes after the fixed header
}

// MaxHeaderSize is the longest fixed header: a byte and a four byte
// Remaining Length.
const MaxHeaderSize = 5

// ParseHeader parses the fixed header at the start of b. It returns the
// header and its size, or n == 0 and no error when b holds only part of
// it. maxSize, when not 0, is the largest packet accepted, counted whole
// as MQTT 5's Maximum Packet Size counts it [MQTT-3.2.2-15]; a larger one
// is refused (0x95) before its body is read.
func ParseHeader(b []byte, maxSize int) (h Header, n int, err error) {
	if len(b) == 0 {
		return h, 0, nil
	}
	h.Type = Type(b[0] >> 4)
	h.Flags = b[0] & 0x0F
	if h.Type == 0 {
		return h, 0, malformed("reserved packet type 0")
	}
	// Fixed header flags [MQTT-2.1.3-1]: PUBLISH's are its own; PUBREL,
	// SUBSCRIBE and UNSUBSCRIBE have 0010; every other packet 0000.
	switch h.Type {
	case PUBLISH:
	case PUBREL, SUBSCRIBE, UNSUBSCRIBE:
		if h.Flags != 0x2 {
			return h, 0, malformed("%s fixed header flags 0x%X, not 0x2", h.Type, h.Flags)
		}
	default:
		if h.Flags != 0 {
			return h, 0, malformed("%s fixed header flags 0x%X, not 0", h.Type, h.Flags)
		}
	}
	i := 1
	shift := 0
	for {
		if i == len(b) {
			return h, 0, nil
		}
		c := b[i]
		i++
		h.Length |= int(c&0x7F) << shift
		if c&0x80 == 0 {
			if i > 2 && c == 0 {
				return h, 0, malformed("remaining length of %d bytes has a zero last byte", i-1)
			}
			break
		}
		if i == MaxHeaderSize {
			return h, 0, malformed("remaining length longer than 4 bytes")
		}
		shift += 7
	}
	if maxSize > 0 && i+h.Length > maxSize {
		return h, 0, &Error{Code: PacketTooLarge, Msg: "packet of " + itoa(i+h.Length) + " bytes exceeds the maximum of " + itoa(maxSize)}
	}
	return h, i, nil
}

func appendHeader(dst []byte, t Type, flags byte, length int) []byte {
	dst = append(dst, byte(t)<<4|flags)
	return appendVarint(dst, length)
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
