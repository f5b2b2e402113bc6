package iotsql

import (
	"math"
	"strconv"
	"strings"
)

// kind is the type of a value: AWS IoT SQL's data types [DOC iot-sql-data-types].
type kind uint8

const (
	kUndefined kind = iota // not a value; dropped from JSON output
	kNull
	kBool
	kInt
	kDecimal
	kString
	kArray
	kObject
)

var kindNames = [...]string{"Undefined", "Null", "Boolean", "Int", "Decimal", "String", "Array", "Object"}

func (k kind) String() string { return kindNames[k] }

// value is one SQL value. Int is an int64 and Decimal a float64: AWS's
// 34-digit precision is not kept (see docs/rules-sql.md).
type value struct {
	k kind
	b bool
	i int64
	f float64
	s string
	a []value
	o []member
}

// member is one key of an object, in document order.
type member struct {
	key string
	val value
}

var (
	undef   = value{}
	null    = value{k: kNull}
	trueV   = value{k: kBool, b: true}
	falseV  = value{k: kBool}
	emptyOb = value{k: kObject}
)

func boolV(b bool) value       { return value{k: kBool, b: b} }
func intV(i int64) value       { return value{k: kInt, i: i} }
func decV(f float64) value     { return value{k: kDecimal, f: f} }
func strV(s string) value      { return value{k: kString, s: s} }
func arrV(a []value) value     { return value{k: kArray, a: a} }
func objV(o []member) value    { return value{k: kObject, o: o} }
func (v value) isNumber() bool { return v.k == kInt || v.k == kDecimal }

// get returns the object member named key, or Undefined.
func (v value) get(key string) value {
	if v.k != kObject {
		return undef
	}
	for i := range v.o {
		if v.o[i].key == key {
			return v.o[i].val
		}
	}
	return undef
}

// index returns the array element at the 0-based index i, or Undefined.
func (v value) index(i int64) value {
	if v.k != kArray || i < 0 || i >= int64(len(v.a)) {
		return undef
	}
	return v.a[i]
}

// set replaces the member named key, or appends it.
func set(o []member, key string, v value) []member {
	for i := range o {
		if o[i].key == key {
			o[i].val = v
			return o
		}
	}
	return append(o, member{key, v})
}

// decimalRE is the syntax AWS converts from String to Decimal:
// ^-?\d+(\.\d+)?((?i)E-?\d+)?$ [DOC iot-sql-data-types, "To decimal"].
func parseDecimalString(s string) (float64, bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		st := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == st {
			return 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && s[i] == '-' {
			i++
		}
		st := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == st {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// toDecimal applies the standard conversion to Decimal. ok is false for
// Undefined results; Null converts to Null, which callers treat as not a
// number.
func toDecimal(v value) (float64, bool) {
	switch v.k {
	case kInt:
		return float64(v.i), true
	case kDecimal:
		return v.f, true
	case kString:
		return parseDecimalString(v.s)
	}
	return 0, false
}

// toNumber is toDecimal that keeps an Int an Int, and turns a String into a
// Decimal.
func toNumber(v value) (value, bool) {
	switch v.k {
	case kInt, kDecimal:
		return v, true
	case kString:
		f, ok := parseDecimalString(v.s)
		if !ok {
			return undef, false
		}
		return decV(f), true
	}
	return undef, false
}

// toInt applies the standard conversion to Int: Decimals round to the
// nearest Int, Strings are parsed as Decimals and truncated.
func toInt(v value) (int64, bool) {
	switch v.k {
	case kInt:
		return v.i, true
	case kDecimal:
		return floatToInt(math.Round(v.f))
	case kString:
		f, ok := parseDecimalString(v.s)
		if !ok {
			return 0, false
		}
		return floatToInt(math.Trunc(f))
	}
	return 0, false
}

// toIntFloor is the conversion most functions document: "rounded down to
// the nearest Int".
func toIntFloor(v value) (int64, bool) {
	if v.k == kInt {
		return v.i, true
	}
	f, ok := toDecimal(v)
	if !ok {
		return 0, false
	}
	return floatToInt(math.Floor(f))
}

func floatToInt(f float64) (int64, bool) {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return 0, false
	}
	return int64(f), true
}

// toBool applies the standard conversion to Boolean: only Booleans and the
// strings "true"/"false" (any case) convert.
func toBool(v value) (bool, bool) {
	switch v.k {
	case kBool:
		return v.b, true
	case kString:
		if strings.EqualFold(v.s, "true") {
			return true, true
		}
		if strings.EqualFold(v.s, "false") {
			return false, true
		}
	}
	return false, false
}

// toString applies the standard conversion to String: Null and Undefined
// do not convert, Arrays and Objects serialize to JSON.
func toString(v value, v1 bool) (string, bool) {
	switch v.k {
	case kString:
		return v.s, true
	case kBool:
		if v.b {
			return "true", true
		}
		return "false", true
	case kInt:
		return strconv.FormatInt(v.i, 10), true
	case kDecimal:
		return formatDecimal(v.f, v1), true
	case kArray, kObject:
		var b []byte
		b, _ = appendJSON(b, v, v1)
		return string(b), true
	}
	return "", false
}

// formatDecimal writes a Decimal the way JSON output shows it. Under
// 2015-10-08 a whole Decimal keeps its ".0"; under 2016-03-23 whole
// numbers are Ints [DOC iot-sql-data-types].
func formatDecimal(f float64, v1 bool) string {
	var b [32]byte
	return string(appendDecimal(b[:0], f, v1))
}

func appendDecimal(b []byte, f float64, v1 bool) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'E'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if v1 && format == 'f' && f == math.Trunc(f) {
		b = append(b, '.', '0')
	}
	_ = start
	return b
}

// normalize applies 2016-03-23's rule that whole-number Decimals are Ints.
func normalize(v value, v1 bool) value {
	if v1 || v.k != kDecimal || v.f != math.Trunc(v.f) {
		return v
	}
	if i, ok := floatToInt(v.f); ok && math.Abs(v.f) < 1<<53 {
		return intV(i)
	}
	return v
}
