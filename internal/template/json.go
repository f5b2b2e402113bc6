package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of JSON arrays and objects in a template body.
// Real templates nest about six levels; the bound keeps hostile input from
// recursing without limit.
const maxDepth = 64

// jsonKind is the type of a JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// String names the kind as the error messages do.
func (k jsonKind) String() string {
	switch k {
	case jsonBool:
		return "a boolean"
	case jsonNumber:
		return "a number"
	case jsonString:
		return "a string"
	case jsonArray:
		return "a list"
	case jsonObject:
		return "an object"
	}
	return "null"
}

// jsonValue is a decoded JSON value that, unlike map[string]any, keeps the
// order of object members, so that rendering and its errors follow the
// template's order and an inline policy document keeps its shape.
type jsonValue struct {
	kind  jsonKind
	str   string // jsonString: the string; jsonNumber, jsonBool: the literal text
	elems []*jsonValue
	keys  []string // jsonObject, in document order
	vals  []*jsonValue
}

// member returns the value of key in an object.
func (v *jsonValue) member(key string) (*jsonValue, bool) {
	for i, k := range v.keys {
		if k == key {
			return v.vals[i], true
		}
	}
	return nil, false
}

// decoder reads one JSON document, tracking the path of the value being
// read so that a duplicated key can be reported where it is.
type decoder struct {
	dec  *json.Decoder
	path []string
}

// decodeJSON reads exactly one JSON value from body. Duplicated object keys
// and trailing data are errors.
func decodeJSON(body string) (*jsonValue, error) {
	if strings.TrimSpace(body) == "" {
		return nil, errorf("", "the template body is empty")
	}
	d := &decoder{dec: json.NewDecoder(strings.NewReader(body))}
	d.dec.UseNumber()
	v, err := d.value(0)
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return nil, te
		}
		return nil, d.syntaxError(err)
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, errorf("", "the template body is not valid JSON: unexpected data after the end of the template at offset %d", d.dec.InputOffset())
	}
	return v, nil
}

func (d *decoder) syntaxError(err error) *Error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf("", "the template body is not valid JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errorf("", "the template body is not valid JSON: %s at offset %d", se.Error(), se.Offset)
	}
	return errorf("", "the template body is not valid JSON: %s at offset %d", err.Error(), d.dec.InputOffset())
}

func (d *decoder) where() string {
	var b strings.Builder
	for _, p := range d.path {
		if strings.HasPrefix(p, "[") || b.Len() == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(".")
			b.WriteString(p)
		}
	}
	return b.String()
}

func (d *decoder) value(depth int) (*jsonValue, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: jsonNull, str: "null"}, nil
	case bool:
		s := "false"
		if t {
			s = "true"
		}
		return &jsonValue{kind: jsonBool, str: s}, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, str: string(t)}, nil
	case string:
		return &jsonValue{kind: jsonString, str: t}, nil
	case json.Delim:
		if depth >= maxDepth {
			return nil, errorf("", "the template nests lists and objects more than %d levels deep", maxDepth)
		}
		switch t {
		case '[':
			v := &jsonValue{kind: jsonArray}
			for i := 0; d.dec.More(); i++ {
				d.path = append(d.path, fmt.Sprintf("[%d]", i))
				e, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				d.path = d.path[:len(d.path)-1]
				v.elems = append(v.elems, e)
			}
			if _, err := d.dec.Token(); err != nil { // ']'
				return nil, err
			}
			return v, nil
		case '{':
			v := &jsonValue{kind: jsonObject}
			for d.dec.More() {
				kt, err := d.dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string) // the decoder yields only strings here
				if _, seen := v.member(key); seen {
					return nil, errorf(d.where(), "duplicate key %q", key)
				}
				d.path = append(d.path, key)
				e, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				d.path = d.path[:len(d.path)-1]
				v.keys = append(v.keys, key)
				v.vals = append(v.vals, e)
			}
			if _, err := d.dec.Token(); err != nil { // '}'
				return nil, err
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// appendString appends s as a JSON string. Unlike encoding/json it leaves
// '<', '>' and '&' alone, so a policy document keeps the text it was
// written with; invalid UTF-8 becomes U+FFFD as in encoding/json.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
