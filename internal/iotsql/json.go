package iotsql

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of payloads and expressions, so that hostile
// input cannot exhaust the stack.
const maxDepth = 512

var errJSON = errors.New("iotsql: invalid JSON")

// decodeJSON parses a whole JSON document into a value. Under 2016-03-23
// whole-number Decimals become Ints [DOC iot-sql-data-types].
func decodeJSON(data []byte, v1 bool) (value, error) {
	d := jsonDecoder{data: data, v1: v1}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return undef, err
	}
	d.space()
	if d.pos != len(d.data) {
		return undef, errJSON
	}
	return v, nil
}

type jsonDecoder struct {
	data []byte
	pos  int
	v1   bool
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) lit(s string, v value) (value, error) {
	if len(d.data)-d.pos < len(s) || string(d.data[d.pos:d.pos+len(s)]) != s {
		return undef, errJSON
	}
	d.pos += len(s)
	return v, nil
}

func (d *jsonDecoder) value(depth int) (value, error) {
	if depth > maxDepth || d.pos >= len(d.data) {
		return undef, errJSON
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		d.pos++
		o := make([]member, 0, 4)
		d.space()
		if d.pos < len(d.data) && d.data[d.pos] == '}' {
			d.pos++
			return emptyOb, nil
		}
		for {
			d.space()
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return undef, errJSON
			}
			k, err := d.str()
			if err != nil {
				return undef, err
			}
			d.space()
			if d.pos >= len(d.data) || d.data[d.pos] != ':' {
				return undef, errJSON
			}
			d.pos++
			d.space()
			v, err := d.value(depth + 1)
			if err != nil {
				return undef, err
			}
			o = set(o, k, v)
			d.space()
			if d.pos >= len(d.data) {
				return undef, errJSON
			}
			if d.data[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.data[d.pos] == '}' {
				d.pos++
				return objV(o), nil
			}
			return undef, errJSON
		}
	case c == '[':
		d.pos++
		a := []value{}
		d.space()
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			d.pos++
			return arrV(a), nil
		}
		for {
			d.space()
			v, err := d.value(depth + 1)
			if err != nil {
				return undef, err
			}
			a = append(a, v)
			d.space()
			if d.pos >= len(d.data) {
				return undef, errJSON
			}
			if d.data[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.data[d.pos] == ']' {
				d.pos++
				return arrV(a), nil
			}
			return undef, errJSON
		}
	case c == '"':
		s, err := d.str()
		return strV(s), err
	case c == 't':
		return d.lit("true", trueV)
	case c == 'f':
		return d.lit("false", falseV)
	case c == 'n':
		return d.lit("null", null)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return undef, errJSON
}

func (d *jsonDecoder) number() (value, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		st := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		return d.pos - st
	}
	n := digits()
	if n == 0 || (n > 1 && d.data[d.pos-n] == '0') {
		return undef, errJSON
	}
	isInt := true
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		isInt = false
		if digits() == 0 {
			return undef, errJSON
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		isInt = false
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return undef, errJSON
		}
	}
	return numberValue(string(d.data[start:d.pos]), isInt, d.v1), nil
}

// numberValue turns numeric text (JSON or SQL literal) into an Int or a
// Decimal.
func numberValue(s string, isInt, v1 bool) value {
	if isInt {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intV(i)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return undef // beyond double precision's range
	}
	return normalize(decV(f), v1)
}

func (d *jsonDecoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := string(d.data[start:d.pos])
			d.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.pos++
	}
	b := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b), nil
		case c < 0x20:
			return "", errJSON
		case c == '\\':
			d.pos++
			if d.pos >= len(d.data) {
				return "", errJSON
			}
			e := d.data[d.pos]
			d.pos++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", errJSON
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
						save := d.pos
						d.pos += 2
						if x, ok := d.hex4(); ok {
							r2 = x
						} else {
							d.pos = save
						}
					}
					r = utf16.DecodeRune(r, r2)
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", errJSON
			}
		default:
			b = append(b, c)
			d.pos++
		}
	}
	return "", errJSON
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

// appendJSON serializes v. Undefined members and elements are dropped
// [DOC iot-sql-data-types]; ok is false when v itself is Undefined. NaN and
// infinities, which JSON cannot spell, are Undefined too.
func appendJSON(b []byte, v value, v1 bool) ([]byte, bool) {
	switch v.k {
	case kNull:
		return append(b, "null"...), true
	case kBool:
		if v.b {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case kInt:
		return strconv.AppendInt(b, v.i, 10), true
	case kDecimal:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
			return b, false
		}
		return appendDecimal(b, v.f, v1), true
	case kString:
		return appendQuoted(b, v.s), true
	case kArray:
		b = append(b, '[')
		first := true
		for _, e := range v.a {
			if !defined(e) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b, _ = appendJSON(b, e, v1)
		}
		return append(b, ']'), true
	case kObject:
		b = append(b, '{')
		first := true
		for _, m := range v.o {
			if !defined(m.val) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendQuoted(b, m.key)
			b = append(b, ':')
			b, _ = appendJSON(b, m.val, v1)
		}
		return append(b, '}'), true
	}
	return b, false
}

// defined reports whether v appears in JSON output.
func defined(v value) bool {
	return v.k != kUndefined && !(v.k == kDecimal && (math.IsNaN(v.f) || math.IsInf(v.f, 0)))
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s as a JSON string. Unlike encoding/json it does not
// escape <, > and &; invalid UTF-8 becomes U+FFFD.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
