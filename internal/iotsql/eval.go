package iotsql

import "math"

func (x *litExpr) eval(*env) value { return x.v }

func (x *fieldExpr) eval(e *env) value { return e.doc.get(x.name) }

func (x *dotExpr) eval(e *env) value { return x.x.eval(e).get(x.key) }

func (x *indexExpr) eval(e *env) value {
	base := x.x.eval(e)
	i := x.i.eval(e)
	switch base.k {
	case kArray:
		n, ok := toInt(i)
		if !ok || i.k == kNull {
			return undef
		}
		return base.index(n)
	case kObject:
		if i.k == kString {
			return base.get(i.s)
		}
	}
	return undef
}

// starExpr evaluates to the raw payload as a String; only encode uses it.
func (x *starExpr) eval(e *env) value { return strV(string(e.in.Payload)) }

func (x *negExpr) eval(e *env) value {
	v, ok := toNumber(x.x.eval(e))
	if !ok {
		return undef
	}
	if v.k == kInt {
		if v.i == math.MinInt64 {
			return decV(-float64(v.i))
		}
		return intV(-v.i)
	}
	return decV(-v.f)
}

// NOT takes a Boolean or a "true"/"false" string [DOC iot-sql-operators].
func (x *notExpr) eval(e *env) value {
	b, ok := toBool(x.x.eval(e))
	if !ok {
		return undef
	}
	return boolV(!b)
}

func (x *isExpr) eval(e *env) value {
	v := x.x.eval(e)
	r := v.k == kNull
	if x.undefined {
		r = v.k == kUndefined
	}
	return boolV(r != x.not)
}

// IN is true when x equals (by =) an element of the array; a right side
// that is not an array is compared with = itself.
func (x *inExpr) eval(e *env) value {
	v := x.x.eval(e)
	list := x.list.eval(e)
	if v.k == kUndefined || list.k == kUndefined {
		return undef
	}
	found := false
	if list.k == kArray {
		for _, el := range list.a {
			if r := equal(v, el); r.k == kBool && r.b {
				found = true
				break
			}
		}
	} else if r := equal(v, list); r.k == kBool && r.b {
		found = true
	}
	return boolV(found != x.not)
}

func (x *binExpr) eval(e *env) value {
	switch x.op {
	case "AND", "OR":
		l, lok := toBool(x.l.eval(e))
		r, rok := toBool(x.r.eval(e))
		if !lok || !rok {
			return undef
		}
		if x.op == "AND" {
			return boolV(l && r)
		}
		return boolV(l || r)
	}
	l := x.l.eval(e)
	r := x.r.eval(e)
	switch x.op {
	case "=":
		return equal(l, r)
	case "<>":
		v := equal(l, r)
		if v.k == kBool {
			v.b = !v.b
		}
		return v
	case "<", "<=", ">", ">=":
		return compare(x.op, l, r)
	case "+":
		if l.k == kString || r.k == kString {
			// + concatenates when either side is a String [DOC iot-sql-operators].
			ls, lok := toString(l, e.v1)
			rs, rok := toString(r, e.v1)
			if !lok || !rok {
				return undef
			}
			return strV(ls + rs)
		}
		if !l.isNumber() || !r.isNumber() {
			return undef
		}
	}
	return arith(x.op, l, r, e.v1)
}

// equal implements = [DOC iot-sql-operators]: Undefined on either side is
// Undefined, Ints and Decimals compare as numbers, other mismatched types
// are not equal, arrays compare in order and objects regardless of key
// order.
func equal(l, r value) value {
	if l.k == kUndefined || r.k == kUndefined {
		return undef
	}
	return boolV(deepEqual(l, r))
}

func deepEqual(l, r value) bool {
	if l.isNumber() && r.isNumber() {
		if l.k == kInt && r.k == kInt {
			return l.i == r.i
		}
		lf, _ := toDecimal(l)
		rf, _ := toDecimal(r)
		return lf == rf
	}
	if l.k != r.k {
		return false
	}
	switch l.k {
	case kNull:
		return true
	case kBool:
		return l.b == r.b
	case kString:
		return l.s == r.s
	case kArray:
		if len(l.a) != len(r.a) {
			return false
		}
		for i := range l.a {
			if !deepEqual(l.a[i], r.a[i]) {
				return false
			}
		}
		return true
	case kObject:
		if len(l.o) != len(r.o) {
			return false
		}
		for _, m := range l.o {
			rv := r.get(m.key)
			if rv.k == kUndefined || !deepEqual(m.val, rv) {
				return false
			}
		}
		return true
	}
	return false
}

// compare implements < <= > >=: both sides convert to Decimal, Strings
// included; anything else is Undefined [DOC iot-sql-operators].
func compare(op string, l, r value) value {
	var c int
	if l.k == kInt && r.k == kInt {
		switch {
		case l.i < r.i:
			c = -1
		case l.i > r.i:
			c = 1
		}
	} else {
		lf, lok := toDecimal(l)
		rf, rok := toDecimal(r)
		if !lok || !rok || math.IsNaN(lf) || math.IsNaN(rf) {
			return undef
		}
		switch {
		case lf < rf:
			c = -1
		case lf > rf:
			c = 1
		}
	}
	switch op {
	case "<":
		return boolV(c < 0)
	case "<=":
		return boolV(c <= 0)
	case ">":
		return boolV(c > 0)
	}
	return boolV(c >= 0)
}

// arith implements + - * / % on numbers: Int op Int is an Int (division
// truncates; an overflow gives a Decimal), anything with a Decimal or a
// numeric String is a Decimal; division by zero is Undefined.
func arith(op string, l, r value, v1 bool) value {
	ln, lok := toNumber(l)
	rn, rok := toNumber(r)
	if !lok || !rok {
		return undef
	}
	if ln.k == kInt && rn.k == kInt {
		a, b := ln.i, rn.i
		switch op {
		case "+":
			if s := a + b; (s > a) == (b > 0) {
				return intV(s)
			}
		case "-":
			if s := a - b; (s < a) == (b > 0) {
				return intV(s)
			}
		case "*":
			if a == 0 || b == 0 {
				return intV(0)
			}
			if p := a * b; p/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64) {
				return intV(p)
			}
		case "/":
			if b == 0 {
				return undef
			}
			if !(a == math.MinInt64 && b == -1) {
				return intV(a / b)
			}
		case "%":
			if b == 0 {
				return undef
			}
			if b == -1 {
				return intV(0)
			}
			return intV(a % b)
		}
	}
	a, _ := toDecimal(ln)
	b, _ := toDecimal(rn)
	var f float64
	switch op {
	case "+":
		f = a + b
	case "-":
		f = a - b
	case "*":
		f = a * b
	case "/":
		if b == 0 {
			return undef
		}
		f = a / b
	case "%":
		if b == 0 {
			return undef
		}
		f = math.Mod(a, b)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return undef
	}
	return normalize(decV(f), v1)
}

func (x *callExpr) eval(e *env) value {
	e.depth++
	defer func() { e.depth-- }()
	return x.fn.call(e, x)
}

func (x *castExpr) eval(e *env) value {
	return cast(x.x.eval(e), x.typ, e.v1)
}

// cast follows cast()'s rules [DOC iot-sql-functions, cast]: like the
// standard conversions, plus numbers to and from Booleans.
func cast(v value, typ string, v1 bool) value {
	switch typ {
	case "String":
		if v.k == kBool || v.k == kInt || v.k == kDecimal || v.k == kString || v.k == kArray || v.k == kObject {
			s, _ := toString(v, v1)
			return strV(s)
		}
	case "Int":
		switch v.k {
		case kBool:
			if v.b {
				return intV(1)
			}
			return intV(0)
		case kInt, kDecimal, kString:
			if i, ok := toIntFloor(v); ok {
				return intV(i)
			}
		}
	case "Decimal", "Double":
		switch v.k {
		case kBool:
			if v.b {
				return normalize(decV(1), v1)
			}
			return normalize(decV(0), v1)
		case kInt:
			return normalize(decV(float64(v.i)), v1)
		case kDecimal, kString:
			if f, ok := toDecimal(v); ok {
				return normalize(decV(f), v1)
			}
		}
	case "Boolean":
		switch v.k {
		case kInt:
			return boolV(v.i != 0)
		case kDecimal:
			return boolV(v.f != 0)
		case kBool, kString:
			if b, ok := toBool(v); ok {
				return boolV(b)
			}
		}
	}
	return undef
}

// CASE compares the operand with each WHEN by = and takes the first match;
// an Undefined operand makes the result Undefined [DOC iot-sql-case].
func (x *caseExpr) eval(e *env) value {
	var v value
	if x.operand != nil {
		v = x.operand.eval(e)
		if v.k == kUndefined {
			return undef
		}
	}
	for _, w := range x.whens {
		t := w.when.eval(e)
		var hit bool
		if x.operand != nil {
			r := equal(v, t)
			hit = r.k == kBool && r.b
		} else {
			hit = t.k == kBool && t.b
		}
		if hit {
			return w.then.eval(e)
		}
	}
	if x.els != nil {
		return x.els.eval(e)
	}
	return undef
}

func (x *arrayExpr) eval(e *env) value {
	a := make([]value, 0, len(x.elems))
	for _, el := range x.elems {
		a = append(a, el.eval(e))
	}
	return arrV(a)
}

func (x *objectExpr) eval(e *env) value {
	o := make([]member, 0, len(x.keys))
	for i, k := range x.keys {
		if v := x.vals[i].eval(e); v.k != kUndefined {
			o = set(o, k, v)
		}
	}
	return objV(o)
}

// subquery evaluates its SELECT once per element of the FROM array, keeping
// the elements for which WHERE is true [DOC iot-sql-nested-queries].
func (x *subquery) eval(e *env) value {
	from := x.from.eval(e)
	if from.k != kArray {
		return undef
	}
	out := make([]value, 0, len(from.a))
	saved := e.doc
	for _, el := range from.a {
		if x.where != nil {
			e.doc = el
			w := x.where.eval(e)
			e.doc = saved
			if w.k != kBool || !w.b {
				continue
			}
		}
		if x.sel.items[0].star && !x.sel.value && len(x.sel.items) == 1 {
			out = append(out, el)
			continue
		}
		v := x.sel.eval(e, el)
		if v.k != kUndefined {
			out = append(out, v)
		}
	}
	return arrV(out)
}

// stringArg evaluates x and converts it to a String by the standard rules.
func stringArg(e *env, x expr) (string, bool) {
	return toString(x.eval(e), e.v1)
}
