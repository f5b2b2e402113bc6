package shadow

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
)

// The JSON values this package works on are what encoding/json decodes into
// an any with UseNumber: map[string]any, []any, json.Number, string, bool
// and nil. Numbers stay json.Number, so 12345678901234567890 and 1.10 are
// written back exactly as they came.

// decode reads exactly one JSON value from b.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// encode writes v as compact JSON: object keys sorted (so the output is
// deterministic) and <, > and & left as they are.
func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only values this package decoded or built reach here; they
		// always encode.
		panic("shadow: encoding a JSON value: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// deepCopy copies the maps and slices of v.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copyObject(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func copyObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

// equal compares two JSON values; numbers compare by their value, so 1,
// 1.0 and 10e-1 are equal.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numberEqual(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// numberEqual compares two JSON number literals exactly, as decimals.
//
// AWS uncertain: AWS does not say how the delta compares numbers. AWS's own
// Greengrass ShadowManager, which mirrors the cloud service, compares them
// by value (1 equals 1.0); this does the same, without rounding.
func numberEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	an, ad, ae := canonical(string(a))
	bn, bd, be := canonical(string(b))
	return an == bn && ad == bd && ae.Cmp(be) == 0
}

// canonical splits a JSON number literal into sign, significant digits (no
// leading or trailing zeros) and decimal exponent, the value being
// ±digits × 10^exp. Zero is (false, "", 0) whatever its sign.
func canonical(s string) (neg bool, digits string, exp *big.Int) {
	exp = new(big.Int)
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant := s
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := strings.TrimPrefix(s[i+1:], "+")
		if _, ok := exp.SetString(e, 10); !ok {
			exp.SetInt64(0)
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits = strings.TrimLeft(intPart+frac, "0")
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	trimmed := strings.TrimRight(digits, "0")
	exp.Add(exp, big.NewInt(int64(len(digits)-len(trimmed))))
	digits = trimmed
	if digits == "" {
		return false, "", new(big.Int)
	}
	return neg, digits, exp
}

// integer reads a JSON number literal as an int64: only plain integer
// literals (no fraction, no exponent) that fit.
func integer(n json.Number) (int64, bool) {
	if strings.ContainsAny(string(n), ".eE") {
		return 0, false
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	return v, err == nil
}

// depth is how many levels of keys (array elements count as a level) a
// section holds: {"a":1} is 1, {"a":{"b":1}} is 2, {"a":[1]} is 2. An empty
// object or array adds no level.
func depth(v any) int {
	max := 0
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			max = maxInt(max, 1+depth(c))
		}
	case []any:
		for _, c := range x {
			max = maxInt(max, 1+depth(c))
		}
	}
	return max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// nullInArray reports whether an array anywhere in v holds a null.
func nullInArray(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			if nullInArray(c) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if c == nil || nullInArray(c) {
				return true
			}
		}
	}
	return false
}
