package policy

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// opKind is a base condition operator, without qualifiers.
type opKind uint8

const (
	opStringEquals opKind = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opBool
	opIPAddress
	opNull
)

// operatorNames maps the supported IAM condition operators to their
// positive base operator and whether they negate it.
var operatorNames = map[string]struct {
	kind    opKind
	negated bool
}{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	"Null":                      {opNull, false},
}

// unsupportedOperators are IAM operators that iotcore does not implement;
// naming them gives a better message than "unknown".
var unsupportedOperators = []string{"Arn", "Date", "Binary"}

// setQualifier is the ForAllValues:/ForAnyValue: prefix of an operator.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setForAll
	setForAny
)

// operator is a parsed condition operator such as
// "ForAnyValue:StringLikeIfExists".
type operator struct {
	kind     opKind
	negated  bool
	set      setQualifier
	ifExists bool
}

// parseOperator parses an operator name; the error is safe for clients.
func parseOperator(name string) (operator, error) {
	var op operator
	base := name
	if q, rest, ok := strings.Cut(name, ":"); ok {
		switch q {
		case "ForAllValues":
			op.set = setForAll
		case "ForAnyValue":
			op.set = setForAny
		default:
			return op, fmt.Errorf("condition operator %q has an unknown qualifier %q (want \"ForAllValues\" or \"ForAnyValue\")", name, q)
		}
		base = rest
	}
	if b, ok := strings.CutSuffix(base, "IfExists"); ok && b != "" {
		op.ifExists = true
		base = b
	}
	info, ok := operatorNames[base]
	if !ok {
		for _, p := range unsupportedOperators {
			if strings.HasPrefix(base, p) {
				return op, fmt.Errorf("condition operator %q is not supported by iotcore", name)
			}
		}
		for known := range operatorNames {
			if strings.EqualFold(known, base) {
				return op, fmt.Errorf("condition operator %q is not supported; operators are case-sensitive (did you mean %q?)", name, known)
			}
		}
		return op, fmt.Errorf("condition operator %q is not supported", name)
	}
	op.kind, op.negated = info.kind, info.negated
	if op.kind == opNull && (op.ifExists || op.set != setNone) {
		return op, fmt.Errorf("condition operator %q is not valid: Null takes neither a ForAllValues/ForAnyValue qualifier nor IfExists", name)
	}
	return op, nil
}

// checkConditionValue validates a policy value for op at Parse time.
// Values holding policy variables are checked after substitution instead.
func checkConditionValue(op operator, v string, vars bool) error {
	if vars && strings.Contains(v, "${") {
		if _, err := lexTemplate(v, true); err != nil {
			return err
		}
		return nil
	}
	_, err := parseConditionValue(op, v)
	return err
}

// condValue is one compiled policy value of a condition.
type condValue struct {
	str    string       // string operators
	glob   glob         // opStringLike
	num    float64      // numeric operators
	bool   bool         // opBool, opNull
	prefix netip.Prefix // opIPAddress
}

// parseConditionValue converts a (substituted) policy value for op.
func parseConditionValue(op operator, v string) (condValue, error) {
	cv := condValue{str: v}
	switch op.kind {
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return cv, fmt.Errorf("value %q is not a number", v)
		}
		cv.num = f
	case opBool, opNull:
		b, ok := parseBool(v)
		if !ok {
			return cv, fmt.Errorf("value %q is not \"true\" or \"false\"", v)
		}
		cv.bool = b
	case opIPAddress:
		p, ok := parsePrefix(v)
		if !ok {
			return cv, fmt.Errorf("value %q is not an IP address or CIDR block", v)
		}
		cv.prefix = p
	}
	return cv, nil
}

func parseBool(s string) (value, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parsePrefix parses a CIDR block or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)).Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// unmappedBits converts the length of a prefix of IPv4-mapped IPv6
// addresses to an IPv4 length.
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		if b := p.Bits() - 96; b >= 0 {
			return b
		}
		return 0
	}
	return p.Bits()
}

// condition is a compiled Condition: variables substituted, values parsed.
type condition struct {
	op     operator
	key    string
	values []condValue
}

// compileCondition substitutes the variables in c's values. It reports
// false when a variable is unknown or a substituted value does not parse:
// the statement then never matches.
func compileCondition(c Condition, vars Variables, enabled bool) (condition, bool) {
	op, err := parseOperator(c.Operator)
	if err != nil {
		return condition{}, false
	}
	cc := condition{op: op, key: c.Key, values: make([]condValue, 0, len(c.Values))}
	for _, raw := range c.Values {
		var cv condValue
		if op.kind == opStringLike {
			toks, err := lexTemplate(raw, enabled)
			if err != nil {
				return condition{}, false
			}
			toks, ok := expand(toks, vars, true)
			if !ok {
				return condition{}, false
			}
			cv.glob = newGlob(toks, false)
		} else {
			v, ok := expandString(raw, vars, enabled)
			if !ok {
				return condition{}, false
			}
			if cv, err = parseConditionValue(op, v); err != nil {
				return condition{}, false
			}
		}
		cc.values = append(cc.values, cv)
	}
	return cc, true
}

// eval evaluates the condition against the values of its key in the
// request context; present is false when the key is absent (an empty list
// counts as absent). The rules follow IAM [DOC IAM
// reference_policies_elements_condition_operators and
// reference_policies_condition-single-vs-multi-valued-context-keys]:
//   - Null is true when presence is the opposite of its value;
//   - an absent key makes ForAllValues true, ForAnyValue false, ...IfExists
//     true, a negated operator (StringNotEquals, NotIpAddress...) true and
//     any other operator false;
//   - a request value satisfies a positive operator if it matches any
//     policy value, and a negated one if it matches none;
//   - ForAllValues needs every request value to satisfy the operator,
//     ForAnyValue at least one; without a qualifier a positive operator
//     needs one and a negated one all (so that StringNotEquals on a
//     multi-valued key means "none of the values is listed").
func (c *condition) eval(values []string, present bool) bool {
	if len(values) == 0 {
		present = false
	}
	if c.op.kind == opNull {
		for _, v := range c.values {
			if v.bool != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.op.set == setForAll:
			return true
		case c.op.set == setForAny:
			return false
		case c.op.ifExists:
			return true
		}
		return c.op.negated
	}
	all := c.op.set == setForAll || (c.op.set == setNone && c.op.negated)
	for _, v := range values {
		ok := c.satisfied(v)
		if all && !ok {
			return false
		}
		if !all && ok {
			return true
		}
	}
	return all
}

// satisfied reports whether one request value satisfies the operator.
// A value that cannot be read as the operator's type (a number, a boolean,
// an address) satisfies neither the operator nor its negation.
func (c *condition) satisfied(v string) bool {
	var (
		num  float64
		b    bool
		addr netip.Addr
	)
	switch c.op.kind {
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		num = f
	case opBool:
		var ok bool
		if b, ok = parseBool(v); !ok {
			return false
		}
	case opIPAddress:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		addr = a.Unmap()
	}
	matched := false
	for i := range c.values {
		pv := &c.values[i]
		switch c.op.kind {
		case opStringEquals:
			matched = v == pv.str
		case opStringEqualsIgnoreCase:
			matched = strings.EqualFold(v, pv.str)
		case opStringLike:
			matched = pv.glob.match(v)
		case opNumericEquals:
			matched = num == pv.num
		case opNumericLessThan:
			matched = num < pv.num
		case opNumericLessThanEquals:
			matched = num <= pv.num
		case opNumericGreaterThan:
			matched = num > pv.num
		case opNumericGreaterThanEquals:
			matched = num >= pv.num
		case opBool:
			matched = b == pv.bool
		case opIPAddress:
			matched = pv.prefix.Contains(addr)
		}
		if matched {
			break
		}
	}
	return matched != c.op.negated
}
