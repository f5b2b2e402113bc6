package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

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

func (k jsonKind) String() string {
	switch k {
	case jsonBool:
		return "boolean"
	case jsonNumber:
		return "number"
	case jsonString:
		return "string"
	case jsonArray:
		return "list"
	case jsonObject:
		return "object"
	}
	return "null"
}

// jsonValue is a JSON value that, unlike map[string]any, keeps the order of
// object members and remembers duplicated keys, so the validator can reject
// them with a message that names the statement they are in.
type jsonValue struct {
	kind  jsonKind
	str   string // jsonString: the string; jsonNumber: the literal text
	bool  bool
	elems []*jsonValue // jsonArray
	keys  []string     // jsonObject, in document order, duplicates dropped
	vals  []*jsonValue // jsonObject, parallel to keys
	dup   string       // jsonObject: the first key that appeared twice, if any
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

// decodeJSON reads exactly one JSON value from doc. Trailing data other
// than whitespace is an error.
func decodeJSON(doc string) (*jsonValue, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, errors.New("policy document is empty")
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, syntaxError(dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("policy document is not valid JSON: unexpected data after the end of the document at offset %d", dec.InputOffset())
	}
	return v, nil
}

func syntaxError(dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("policy document is not valid JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("policy document is not valid JSON: %s at offset %d", se.Error(), se.Offset)
	}
	return fmt.Errorf("policy document is not valid JSON: %s at offset %d", err.Error(), dec.InputOffset())
}

func readValue(dec *json.Decoder) (*jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: jsonNull}, nil
	case bool:
		return &jsonValue{kind: jsonBool, bool: t}, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, str: string(t)}, nil
	case string:
		return &jsonValue{kind: jsonString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jsonValue{kind: jsonArray}
			for dec.More() {
				e, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				v.elems = append(v.elems, e)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return v, nil
		case '{':
			v := &jsonValue{kind: jsonObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string) // the decoder only yields strings here
				e, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				if _, seen := v.member(key); seen {
					if v.dup == "" {
						v.dup = key
					}
					continue
				}
				v.keys = append(v.keys, key)
				v.vals = append(v.vals, e)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
