package packet

import (
	"unicode/utf8"
)

// reader takes the fields of a packet's body in order. The first failure
// is kept in err and every later read returns a zero value, so a decoder
// checks err once, where it matters.
type reader struct {
	b   []byte
	err error
}

func (r *reader) need(n int, what string) bool {
	if r.err != nil {
		return false
	}
	if len(r.b) < n {
		r.err = malformed("%s: %d bytes needed, %d left", what, n, len(r.b))
		return false
	}
	return true
}

func (r *reader) byte() byte {
	if !r.need(1, "byte") {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uint16() uint16 {
	if !r.need(2, "two byte integer") {
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) uint32() uint32 {
	if !r.need(4, "four byte integer") {
		return 0
	}
	v := uint32(r.b[0])<<24 | uint32(r.b[1])<<16 | uint32(r.b[2])<<8 | uint32(r.b[3])
	r.b = r.b[4:]
	return v
}

// varint reads a Variable Byte Integer: at most four bytes, and no more
// bytes than its value needs [MQTT-1.5.5-1].
func (r *reader) varint() int {
	if r.err != nil {
		return 0
	}
	v, n, err := Varint(r.b)
	if err != nil {
		r.err = err
		return 0
	}
	r.b = r.b[n:]
	return v
}

// binary reads Binary Data: a two byte length and that many bytes
// (§1.5.6), sharing the packet's buffer.
func (r *reader) binary() []byte {
	n := int(r.uint16())
	if !r.need(n, "binary data") {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// string reads a UTF-8 Encoded String (§1.5.4): well-formed UTF-8
// [MQTT-1.5.4-1] with no null character [MQTT-1.5.4-2]. (U+FFFF and the
// other non-characters are allowed: [MQTT-1.5.4-3] is the receiver's
// choice, and AWS IoT accepts them.)
func (r *reader) string() string {
	b := r.binary()
	if r.err != nil {
		return ""
	}
	if err := checkUTF8(b); err != nil {
		r.err = err
		return ""
	}
	return string(b)
}

func checkUTF8(b []byte) *Error {
	for i := 0; i < len(b); {
		c := b[i]
		if c == 0 {
			return malformed("string contains U+0000")
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return malformed("string is not valid UTF-8")
		}
		i += n
	}
	return nil
}

// Varint decodes the Variable Byte Integer at the start of b, returning
// its value and length. It refuses more than four bytes and an encoding
// longer than the value needs [MQTT-1.5.5-1].
func Varint(b []byte) (v, n int, err error) {
	shift := 0
	for n < len(b) {
		c := b[n]
		n++
		v |= int(c&0x7F) << shift
		if c&0x80 == 0 {
			if n > 1 && c == 0 {
				return 0, 0, malformed("variable byte integer of %d bytes has a zero last byte", n)
			}
			return v, n, nil
		}
		if n == 4 {
			return 0, 0, malformed("variable byte integer longer than 4 bytes")
		}
		shift += 7
	}
	return 0, 0, malformed("truncated variable byte integer")
}

func varintSize(v int) int {
	switch {
	case v < 1<<7:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<21:
		return 3
	}
	return 4
}

func appendVarint(dst []byte, v int) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v == 0 {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, byte(len(s)>>8), byte(len(s)))
	return append(dst, s...)
}

func appendBinary(dst []byte, b []byte) []byte {
	dst = append(dst, byte(len(b)>>8), byte(len(b)))
	return append(dst, b...)
}
