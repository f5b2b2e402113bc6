package iotsql

import (
	"regexp"
	"strconv"
	"strings"
)

// expr is a parsed expression. eval never panics and never fails: type
// errors yield Undefined [DOC iot-sql-data-types]. format writes the
// expression back as SQL that parses to the same tree.
type expr interface {
	eval(e *env) value
	format(b *strings.Builder)
}

// litExpr is a constant: number, string, true, false or null.
type litExpr struct{ v value }

// fieldExpr is a top-level name, looked up in the current document (the
// payload, or the element of a nested query's FROM).
type fieldExpr struct{ name string }

// dotExpr is x.key.
type dotExpr struct {
	x   expr
	key string
}

// indexExpr is x[i].
type indexExpr struct{ x, i expr }

// starExpr is the raw payload, allowed only as encode's first argument.
type starExpr struct{}

// negExpr is -x.
type negExpr struct{ x expr }

// notExpr is NOT x.
type notExpr struct{ x expr }

// binExpr is a binary operator: arithmetic, comparison, AND, OR.
type binExpr struct {
	op   string // canonical spelling: + - * / % = <> < <= > >= AND OR
	l, r expr
}

// isExpr is x IS [NOT] NULL / UNDEFINED.
type isExpr struct {
	x         expr
	not       bool
	undefined bool // false: IS NULL
}

// inExpr is x [NOT] IN array.
type inExpr struct {
	x, list expr
	not     bool
	paren   bool // list is an *arrayExpr written as (a, b, ...)
}

// callExpr is a call of a built-in function.
type callExpr struct {
	name string // lower case
	fn   *function
	args []expr
	re   *regexp.Regexp // precompiled when the pattern argument is a literal
}

// castExpr is cast(x AS type).
type castExpr struct {
	x   expr
	typ string // canonical: String, Int, Decimal, Double, Boolean
}

// caseExpr is CASE [v] WHEN t THEN r ... [ELSE e] END. Without v each t is
// a condition (the searched form, an extension AWS does not document).
type caseExpr struct {
	operand expr
	whens   []whenClause
	els     expr
}

type whenClause struct{ when, then expr }

// arrayExpr is an array literal [a, b].
type arrayExpr struct{ elems []expr }

// objectExpr is an object literal {'k': v}.
type objectExpr struct {
	keys []string
	vals []expr
}

// selectItem is one entry of a SELECT list.
type selectItem struct {
	star  bool // *
	x     expr
	alias string // as written after AS; "" when none
	key   string // the output key
}

// selectClause is the part shared by the statement and nested queries.
type selectClause struct {
	value bool // SELECT VALUE
	items []selectItem
}

// subquery is a nested object query, (SELECT ... FROM x [WHERE c])
// [DOC iot-sql-nested-queries].
type subquery struct {
	sel   selectClause
	from  expr
	where expr
}

func (x *litExpr) format(b *strings.Builder) {
	switch x.v.k {
	case kString:
		b.WriteByte('\'')
		for i := 0; i < len(x.v.s); i++ {
			switch c := x.v.s[i]; c {
			case '\'':
				b.WriteString("''")
			case '\\':
				b.WriteString(`\\`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('\'')
	case kInt:
		if x.v.i < 0 {
			b.WriteByte('(')
			b.WriteString(strconv.FormatInt(x.v.i, 10))
			b.WriteByte(')')
			return
		}
		b.WriteString(strconv.FormatInt(x.v.i, 10))
	case kDecimal:
		s := strconv.FormatFloat(x.v.f, 'E', -1, 64)
		if x.v.f < 0 {
			s = "(" + s + ")"
		}
		b.WriteString(s)
	case kBool:
		if x.v.b {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	default:
		b.WriteString("null")
	}
}

func (x *fieldExpr) format(b *strings.Builder) { b.WriteString(x.name) }

func (x *dotExpr) format(b *strings.Builder) {
	x.x.format(b)
	b.WriteByte('.')
	b.WriteString(x.key)
}

func (x *indexExpr) format(b *strings.Builder) {
	x.x.format(b)
	b.WriteByte('[')
	x.i.format(b)
	b.WriteByte(']')
}

func (x *starExpr) format(b *strings.Builder) { b.WriteByte('*') }

func (x *negExpr) format(b *strings.Builder) {
	b.WriteString("(-")
	x.x.format(b)
	b.WriteByte(')')
}

func (x *notExpr) format(b *strings.Builder) {
	b.WriteString("(NOT ")
	x.x.format(b)
	b.WriteByte(')')
}

func (x *binExpr) format(b *strings.Builder) {
	b.WriteByte('(')
	x.l.format(b)
	b.WriteByte(' ')
	b.WriteString(x.op)
	b.WriteByte(' ')
	x.r.format(b)
	b.WriteByte(')')
}

func (x *isExpr) format(b *strings.Builder) {
	b.WriteByte('(')
	x.x.format(b)
	b.WriteString(" IS ")
	if x.not {
		b.WriteString("NOT ")
	}
	if x.undefined {
		b.WriteString("UNDEFINED)")
	} else {
		b.WriteString("NULL)")
	}
}

func (x *inExpr) format(b *strings.Builder) {
	b.WriteByte('(')
	x.x.format(b)
	if x.not {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN ")
	if arr, ok := x.list.(*arrayExpr); ok && x.paren {
		b.WriteByte('(')
		for i, e := range arr.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.format(b)
		}
		b.WriteString("))")
		return
	}
	x.list.format(b)
	b.WriteByte(')')
}

func (x *callExpr) format(b *strings.Builder) {
	b.WriteString(x.name)
	b.WriteByte('(')
	for i, a := range x.args {
		if i > 0 {
			b.WriteString(", ")
		}
		a.format(b)
	}
	b.WriteByte(')')
}

func (x *castExpr) format(b *strings.Builder) {
	b.WriteString("cast(")
	x.x.format(b)
	b.WriteString(" AS ")
	b.WriteString(x.typ)
	b.WriteByte(')')
}

func (x *caseExpr) format(b *strings.Builder) {
	b.WriteString("CASE")
	if x.operand != nil {
		b.WriteByte(' ')
		x.operand.format(b)
	}
	for _, w := range x.whens {
		b.WriteString(" WHEN ")
		w.when.format(b)
		b.WriteString(" THEN ")
		w.then.format(b)
	}
	if x.els != nil {
		b.WriteString(" ELSE ")
		x.els.format(b)
	}
	b.WriteString(" END")
}

func (x *arrayExpr) format(b *strings.Builder) {
	b.WriteByte('[')
	for i, e := range x.elems {
		if i > 0 {
			b.WriteString(", ")
		}
		e.format(b)
	}
	b.WriteByte(']')
}

func (x *objectExpr) format(b *strings.Builder) {
	b.WriteByte('{')
	for i, k := range x.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		(&litExpr{strV(k)}).format(b)
		b.WriteString(": ")
		x.vals[i].format(b)
	}
	b.WriteByte('}')
}

func (s *selectClause) format(b *strings.Builder) {
	b.WriteString("SELECT ")
	if s.value {
		b.WriteString("VALUE ")
	}
	for i, it := range s.items {
		if i > 0 {
			b.WriteString(", ")
		}
		if it.star {
			b.WriteByte('*')
			continue
		}
		it.x.format(b)
		if it.alias != "" {
			b.WriteString(" AS ")
			b.WriteString(it.alias)
		}
	}
}

func (x *subquery) format(b *strings.Builder) {
	b.WriteByte('(')
	x.sel.format(b)
	b.WriteString(" FROM ")
	x.from.format(b)
	if x.where != nil {
		b.WriteString(" WHERE ")
		x.where.format(b)
	}
	b.WriteByte(')')
}
