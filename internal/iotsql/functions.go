package iotsql

import (
	"crypto/md5"
	crypto "crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// function is a built-in function [DOC iot-sql-functions]. Functions take
// their argument expressions unevaluated, so that calls allocate nothing
// they do not return.
type function struct {
	min, max int  // argument count; max -1 means any number
	v2       bool // needs SQL version 2016-03-23
	literal  int  // index of an argument that must be the literal 'base64', or -1
	regex    int  // index of a regular-expression argument to precompile, or 0
	call     func(e *env, c *callExpr) value
}

func (f *function) arity() string {
	switch {
	case f.max < 0:
		return strconv.Itoa(f.min) + " or more arguments"
	case f.min == f.max:
		if f.min == 1 {
			return "1 argument"
		}
		return strconv.Itoa(f.min) + " arguments"
	}
	return strconv.Itoa(f.min) + " to " + strconv.Itoa(f.max) + " arguments"
}

// external lists AWS functions that call other AWS services; Parse names
// them as unsupported rather than unknown.
var external = map[string]bool{
	"aws_lambda": true, "get_dynamodb": true, "get_secret": true, "get_thing_shadow": true,
	"machinelearning_predict": true, "get_registry_data": true, "get_mqtt_property": true,
	"transform": true, "md2": true,
}

var functions map[string]*function

func fn(min, max int, call func(e *env, c *callExpr) value) *function {
	return &function{min: min, max: max, literal: -1, call: call}
}

func fn2(min, max int, call func(e *env, c *callExpr) value) *function {
	f := fn(min, max, call)
	f.v2 = true
	return f
}

func init() {
	functions = map[string]*function{
		"abs": fn(1, 1, func(e *env, c *callExpr) value {
			v, ok := toNumber(c.args[0].eval(e))
			if !ok {
				return undef
			}
			if v.k == kInt {
				if v.i == math.MinInt64 {
					return decV(-float64(v.i))
				}
				if v.i < 0 {
					return intV(-v.i)
				}
				return v
			}
			return normalize(decV(math.Abs(v.f)), e.v1)
		}),
		"accountid": fn(0, 0, func(e *env, c *callExpr) value { return optString(e.in.AccountID) }),
		"acos":      mathFn(math.Acos),
		"asin":      mathFn(math.Asin),
		"atan":      mathFn(math.Atan),
		"atan2": fn(2, 2, func(e *env, c *callExpr) value {
			a, ok1 := toDecimal(c.args[0].eval(e))
			b, ok2 := toDecimal(c.args[1].eval(e))
			if !ok1 || !ok2 {
				return undef
			}
			return double(math.Atan2(a, b), e.v1)
		}),
		"bitand": bitFn(func(a, b int64) int64 { return a & b }),
		"bitor":  bitFn(func(a, b int64) int64 { return a | b }),
		"bitxor": bitFn(func(a, b int64) int64 { return a ^ b }),
		"bitnot": fn(1, 1, func(e *env, c *callExpr) value {
			i, ok := toIntFloor(c.args[0].eval(e))
			if !ok {
				return undef
			}
			return intV(^i)
		}),
		"ceil":  roundFn(math.Ceil),
		"floor": roundFn(math.Floor),
		"round": roundFn(math.Round),
		"chr": fn(1, 1, func(e *env, c *callExpr) value {
			i, ok := toIntFloor(c.args[0].eval(e))
			if !ok || i < 0 || i > 127 {
				return undef
			}
			return strV(string(rune(i)))
		}),
		"clientid": fn(0, 0, func(e *env, c *callExpr) value {
			if e.in.ClientID == "" {
				return strV("n/a") // not sent over MQTT [DOC iot-sql-functions]
			}
			return strV(e.in.ClientID)
		}),
		"concat": fn(0, -1, concat),
		"cos":    mathFn(math.Cos),
		"cosh":   mathFn(math.Cosh),
		"decode": fn2(2, 2, decode),
		"encode": fn2(2, 2, func(e *env, c *callExpr) value {
			if _, ok := c.args[0].(*starExpr); ok {
				return strV(base64.StdEncoding.EncodeToString(e.in.Payload))
			}
			s, ok := stringArg(e, c.args[0])
			if !ok {
				return undef
			}
			return strV(base64.StdEncoding.EncodeToString([]byte(s)))
		}),
		"endswith":   fn(2, 2, strPred(strings.HasSuffix)),
		"startswith": fn(2, 2, strPred(strings.HasPrefix)),
		"exp":        mathFn(math.Exp),
		"get":        fn(2, 2, get),
		"indexof": fn2(2, 2, func(e *env, c *callExpr) value {
			s, ok1 := stringArg(e, c.args[0])
			sub, ok2 := stringArg(e, c.args[1])
			if !ok1 || !ok2 {
				return undef
			}
			i := strings.Index(s, sub)
			if i < 0 {
				return intV(-1)
			}
			return intV(int64(utf8.RuneCountInString(s[:i])))
		}),
		"isnull":      isKind(false, kNull),
		"isundefined": isKind(true, kUndefined),
		"isstring":    isKind(true, kString),
		"isboolean":   isKind(true, kBool),
		"isarray":     isKind(true, kArray),
		"isobject":    isKind(true, kObject),
		"isnumber": fn2(1, 1, func(e *env, c *callExpr) value {
			return boolV(c.args[0].eval(e).isNumber())
		}),
		"length":   fn2(1, 1, strFn(func(s string) value { return intV(int64(utf8.RuneCountInString(s))) })),
		"numbytes": fn2(1, 1, strFn(func(s string) value { return intV(int64(len(s))) })),
		"ln":       mathFn(math.Log),
		"log":      mathFn(math.Log10),
		"lower":    fn(1, 1, strFn(func(s string) value { return strV(strings.ToLower(s)) })),
		"upper":    fn(1, 1, strFn(func(s string) value { return strV(strings.ToUpper(s)) })),
		"trim":     fn(1, 1, strFn(func(s string) value { return strV(strings.TrimFunc(s, isJavaSpace)) })),
		"ltrim":    fn(1, 1, strFn(func(s string) value { return strV(strings.TrimLeftFunc(s, isJavaSpace)) })),
		"rtrim":    fn(1, 1, strFn(func(s string) value { return strV(strings.TrimRightFunc(s, isJavaSpace)) })),
		"lpad":     padFn(true),
		"rpad":     padFn(false),
		"mod": fn(2, 2, func(e *env, c *callExpr) value {
			return arith("%", c.args[0].eval(e), c.args[1].eval(e), e.v1)
		}),
		"remainder": fn(2, 2, func(e *env, c *callExpr) value {
			return arith("%", c.args[0].eval(e), c.args[1].eval(e), e.v1)
		}),
		"nanvl": fn(2, 2, func(e *env, c *callExpr) value {
			v := c.args[0].eval(e)
			if f, ok := toDecimal(v); ok && !math.IsNaN(f) {
				return v
			}
			return c.args[1].eval(e)
		}),
		"newuuid": fn(0, 0, func(e *env, c *callExpr) value {
			if e.in.NewUUID != nil {
				return strV(e.in.NewUUID())
			}
			return strV(newUUID())
		}),
		"power": fn(2, 2, func(e *env, c *callExpr) value {
			a, ok1 := toDecimal(c.args[0].eval(e))
			b, ok2 := toDecimal(c.args[1].eval(e))
			if !ok1 || !ok2 {
				return undef
			}
			return double(math.Pow(a, b), e.v1)
		}),
		"principal": fn(0, 0, func(e *env, c *callExpr) value { return optString(e.in.Principal) }),
		"rand":      fn(0, 0, func(e *env, c *callExpr) value { return decV(rand.Float64()) }),
		"regexp_matches": {min: 2, max: 2, literal: -1, regex: 1, call: func(e *env, c *callExpr) value {
			s, re, ok := regexArgs(e, c)
			if !ok {
				return undef
			}
			return boolV(re.MatchString(s))
		}},
		"regexp_replace": {min: 3, max: 3, literal: -1, regex: 1, call: func(e *env, c *callExpr) value {
			s, re, ok := regexArgs(e, c)
			repl, ok2 := stringArg(e, c.args[2])
			if !ok || !ok2 {
				return undef
			}
			return strV(re.ReplaceAllString(s, repl))
		}},
		"regexp_substr": {min: 2, max: 2, literal: -1, regex: 1, call: func(e *env, c *callExpr) value {
			s, re, ok := regexArgs(e, c)
			if !ok {
				return undef
			}
			return strV(re.FindString(s))
		}},
		"replace": fn(3, 3, func(e *env, c *callExpr) value {
			s, ok1 := stringArg(e, c.args[0])
			old, ok2 := stringArg(e, c.args[1])
			nw, ok3 := stringArg(e, c.args[2])
			if !ok1 || !ok2 || !ok3 {
				return undef
			}
			return strV(strings.ReplaceAll(s, old, nw))
		}),
		"sign": fn(1, 1, func(e *env, c *callExpr) value {
			v, ok := toNumber(c.args[0].eval(e))
			if !ok {
				return undef
			}
			switch {
			case (v.k == kInt && v.i > 0) || (v.k == kDecimal && v.f > 0):
				return intV(1)
			case (v.k == kInt && v.i < 0) || (v.k == kDecimal && v.f < 0):
				return intV(-1)
			}
			return intV(0)
		}),
		"sin":         mathFn(math.Sin),
		"sinh":        mathFn(math.Sinh),
		"tan":         mathFn(math.Tan),
		"tanh":        mathFn(math.Tanh),
		"sqrt":        mathFn(math.Sqrt),
		"substring":   fn(2, 3, substring),
		"sql_version": fn(0, 0, func(e *env, c *callExpr) value { return strV(e.version) }),
		"timestamp": fn(0, 0, func(e *env, c *callExpr) value {
			if e.in.Timestamp.IsZero() {
				return undef
			}
			return intV(e.in.Timestamp.UnixMilli())
		}),
		"topic":         fn(0, 1, topic),
		"traceid":       fn(0, 0, func(e *env, c *callExpr) value { return optString(e.in.TraceID) }),
		"trunc":         fn(2, 2, trunc),
		"md5":           hashFn(md5.New),
		"sha1":          hashFn(sha1.New),
		"sha224":        hashFn(sha256.New224),
		"sha256":        hashFn(sha256.New),
		"sha384":        hashFn(sha512.New384),
		"sha512":        hashFn(sha512.New),
		"parse_time":    fn2(2, 3, parseTime),
		"time_to_epoch": fn2(2, 2, timeToEpoch),
	}
	functions["decode"].literal = 1
	functions["encode"].literal = 1
}

func optString(s string) value {
	if s == "" {
		return undef
	}
	return strV(s)
}

// double returns a double-precision Decimal; NaN ("imaginary results") and
// infinities are Undefined.
func double(f float64, v1 bool) value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return undef
	}
	return normalize(decV(f), v1)
}

func mathFn(f func(float64) float64) *function {
	return fn(1, 1, func(e *env, c *callExpr) value {
		x, ok := toDecimal(c.args[0].eval(e))
		if !ok {
			return undef
		}
		return double(f(x), e.v1)
	})
}

func roundFn(f func(float64) float64) *function {
	return fn(1, 1, func(e *env, c *callExpr) value {
		v, ok := toNumber(c.args[0].eval(e))
		if !ok {
			return undef
		}
		if v.k == kInt {
			return v
		}
		i, ok := floatToInt(f(v.f))
		if !ok {
			return undef
		}
		return intV(i)
	})
}

func bitFn(f func(a, b int64) int64) *function {
	return fn(2, 2, func(e *env, c *callExpr) value {
		a, ok1 := toIntFloor(c.args[0].eval(e))
		b, ok2 := toIntFloor(c.args[1].eval(e))
		if !ok1 || !ok2 {
			return undef
		}
		return intV(f(a, b))
	})
}

func strFn(f func(string) value) func(e *env, c *callExpr) value {
	return func(e *env, c *callExpr) value {
		s, ok := stringArg(e, c.args[0])
		if !ok {
			return undef
		}
		return f(s)
	}
}

func strPred(f func(s, x string) bool) func(e *env, c *callExpr) value {
	return func(e *env, c *callExpr) value {
		a, ok1 := stringArg(e, c.args[0])
		b, ok2 := stringArg(e, c.args[1])
		if !ok1 || !ok2 {
			return undef
		}
		return boolV(f(a, b))
	}
}

func isKind(v2 bool, k kind) *function {
	f := fn(1, 1, func(e *env, c *callExpr) value { return boolV(c.args[0].eval(e).k == k) })
	f.v2 = v2
	return f
}

func hashFn(h func() hash.Hash) *function {
	return fn(1, 1, strFn(func(s string) value {
		d := h()
		d.Write([]byte(s))
		return strV(hex.EncodeToString(d.Sum(nil)))
	}))
}

// isJavaSpace is what Java's String.trim removes: every character up to
// and including the space.
func isJavaSpace(r rune) bool { return r <= ' ' }

func padFn(left bool) *function {
	return fn(2, 2, func(e *env, c *callExpr) value {
		s, ok1 := stringArg(e, c.args[0])
		nv := c.args[1].eval(e)
		f, ok2 := toDecimal(nv)
		if !ok1 || !ok2 {
			return undef
		}
		n := int(math.Max(0, math.Min(1000, math.Floor(f)))) // clamped to 0..1000
		pad := strings.Repeat(" ", n)
		if left {
			return strV(pad + s)
		}
		return strV(s + pad)
	})
}

func regexArgs(e *env, c *callExpr) (string, *regexp.Regexp, bool) {
	s, ok := stringArg(e, c.args[0])
	if !ok {
		return "", nil, false
	}
	if c.re != nil {
		return s, c.re, true
	}
	pat, ok := stringArg(e, c.args[1])
	if !ok {
		return "", nil, false
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return "", nil, false
	}
	return s, re, true
}

// concat joins strings or arrays [DOC iot-sql-functions, concat].
func concat(e *env, c *callExpr) value {
	switch len(c.args) {
	case 0:
		return undef
	case 1:
		return c.args[0].eval(e)
	}
	vals := make([]value, len(c.args))
	anyArray, anyString := false, false
	for i, a := range c.args {
		vals[i] = a.eval(e)
		anyArray = anyArray || vals[i].k == kArray
		anyString = anyString || vals[i].k == kString
	}
	if anyArray {
		var out []value
		for _, v := range vals {
			if v.k == kArray {
				out = append(out, v.a...)
			} else {
				out = append(out, v)
			}
		}
		return arrV(out)
	}
	if !anyString {
		return undef
	}
	var b strings.Builder
	for _, v := range vals {
		s, ok := toString(v, e.v1)
		if !ok {
			return undef
		}
		b.WriteString(s)
	}
	return strV(b.String())
}

// decode turns base64 text into the JSON value it encodes, or into a
// String when it is not JSON; text that is not base64 is Null
// [DOC iot-sql-functions, decode].
func decode(e *env, c *callExpr) value {
	s, ok := stringArg(e, c.args[0])
	if !ok {
		return undef
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return null
		}
	}
	if v, err := decodeJSON(b, e.v1); err == nil {
		return v
	}
	return strV(string(b))
}

// get indexes an Array or a String (0-based) or keys an Object
// [DOC iot-sql-functions, get].
func get(e *env, c *callExpr) value {
	base := c.args[0].eval(e)
	k := c.args[1].eval(e)
	switch base.k {
	case kArray:
		i, ok := toInt(k)
		if !ok {
			return undef
		}
		return base.index(i)
	case kString:
		i, ok := toInt(k)
		if !ok || i < 0 {
			return undef
		}
		for _, r := range base.s {
			if i == 0 {
				return strV(string(r))
			}
			i--
		}
		return undef
	case kObject:
		if k.k == kString {
			return base.get(k.s)
		}
	}
	return undef
}

// substring takes characters [start, end) with indices clamped to the
// string [DOC iot-sql-functions, substring].
func substring(e *env, c *callExpr) value {
	s, ok := stringArg(e, c.args[0])
	if !ok {
		return undef
	}
	n := utf8.RuneCountInString(s)
	clamp := func(x expr) (int, bool) {
		f, ok := toDecimal(x.eval(e))
		if !ok || math.IsNaN(f) {
			return 0, false
		}
		f = math.Floor(f)
		return int(math.Max(0, math.Min(float64(n), f))), true
	}
	start, ok := clamp(c.args[1])
	if !ok {
		return undef
	}
	end := n
	if len(c.args) == 3 {
		if end, ok = clamp(c.args[2]); !ok {
			return undef
		}
	}
	if start >= end {
		return strV("")
	}
	if n == len(s) {
		return strV(s[start:end])
	}
	r := []rune(s)
	return strV(string(r[start:end]))
}

// topic returns the topic or its n-th level (1-based). Basic Ingest's
// $aws/rules/<rule> prefix is not part of it [DOC iot-sql-functions, topic].
func topic(e *env, c *callExpr) value {
	t := e.in.Topic
	if strings.HasPrefix(t, "$aws/rules/") {
		rest := t[len("$aws/rules/"):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			t = rest[i+1:]
		} else {
			t = ""
		}
	}
	if len(c.args) == 0 {
		return strV(t)
	}
	n, ok := toIntFloor(c.args[0].eval(e))
	if !ok || n < 1 {
		return undef
	}
	for ; n > 1; n-- {
		i := strings.IndexByte(t, '/')
		if i < 0 {
			return undef
		}
		t = t[i+1:]
	}
	if i := strings.IndexByte(t, '/'); i >= 0 {
		t = t[:i]
	}
	return strV(t)
}

// trunc truncates to n decimal places, dropping trailing zeros
// [DOC iot-sql-functions, trunc].
func trunc(e *env, c *callExpr) value {
	v, ok := toNumber(c.args[0].eval(e))
	n, ok2 := toIntFloor(c.args[1].eval(e))
	if !ok || !ok2 {
		return undef
	}
	if v.k == kInt {
		return v
	}
	n = max(0, min(34, n))
	s := strconv.FormatFloat(v.f, 'f', -1, 64)
	if dot := strings.IndexByte(s, '.'); dot >= 0 && len(s)-dot-1 > int(n) {
		s = s[:dot+1+int(n)]
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "."), 64)
	if err != nil {
		return undef
	}
	if f == math.Trunc(f) {
		if i, ok := floatToInt(f); ok {
			return intV(i)
		}
	}
	return decV(f)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	_, _ = crypto.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	hex.Encode(b[9:13], u[4:6])
	hex.Encode(b[14:18], u[6:8])
	hex.Encode(b[19:23], u[8:10])
	hex.Encode(b[24:], u[10:])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b[:])
}
