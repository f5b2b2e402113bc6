package iotsql

import (
	"regexp"
	"strconv"
	"strings"
)

// parser is a recursive-descent parser over the lexer's tokens, with one
// token of lookahead (two for SELECT VALUE).
type parser struct {
	src   string
	lex   lexer
	tok   token // current
	peekT *token
	v1    bool // 2015-10-08
	depth int
	err   *ParseError
}

// reserved words cannot name payload fields.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AS": true, "AND": true, "OR": true,
	"NOT": true, "IS": true, "IN": true, "NULL": true, "TRUE": true, "FALSE": true,
	"CASE": true, "WHEN": true, "THEN": true, "ELSE": true, "END": true,
}

func newParser(src string, offset int, v1 bool) *parser {
	p := &parser{src: src, lex: lexer{src: src, pos: offset}, v1: v1}
	p.advance()
	return p
}

func (p *parser) advance() {
	if p.peekT != nil {
		p.tok = *p.peekT
		p.peekT = nil
		return
	}
	p.tok = p.lex.next()
}

func (p *parser) peek() token {
	if p.peekT == nil {
		t := p.lex.next()
		p.peekT = &t
	}
	return *p.peekT
}

// fail records the first error; parsing unwinds by checking p.err.
func (p *parser) fail(t token, format string, args ...any) {
	if p.err == nil {
		p.err = newParseError(p.src, t.pos, format, args...)
	}
}

func (p *parser) unexpected(expecting string) {
	if p.tok.kind == tBad {
		p.fail(p.tok, "%s %q", p.tok.text, p.tok.raw)
		return
	}
	p.fail(p.tok, "mismatched input '%s' expecting %s", p.tok.raw, expecting)
}

func (p *parser) isKeyword(kw string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) isOp(op string) bool { return p.tok.kind == tOp && p.tok.text == op }

func (p *parser) expectOp(op string) bool {
	if !p.isOp(op) {
		p.unexpected("'" + op + "'")
		return false
	}
	p.advance()
	return true
}

func (p *parser) expectKeyword(kw string) bool {
	if !p.isKeyword(kw) {
		p.unexpected(kw)
		return false
	}
	p.advance()
	return true
}

// parseSelect parses SELECT [VALUE] items. It stops before FROM.
func (p *parser) parseSelect() selectClause {
	var s selectClause
	if !p.expectKeyword("SELECT") {
		return s
	}
	if p.isKeyword("VALUE") {
		n := p.peek()
		if !(n.kind == tIdent && strings.EqualFold(n.text, "FROM")) && !(n.kind == tOp && strings.Contains(",.", n.text)) &&
			!(n.kind == tIdent && strings.EqualFold(n.text, "AS")) {
			s.value = true
			p.advance()
		}
	}
	for {
		start := p.tok
		var it selectItem
		if p.isOp("*") {
			if s.value {
				p.fail(p.tok, "SELECT VALUE takes one expression, not *")
				return s
			}
			it.star = true
			p.advance()
		} else {
			it.x = p.parseExpr()
			if p.err != nil {
				return s
			}
			if p.isKeyword("AS") {
				p.advance()
				if p.tok.kind != tIdent {
					p.unexpected("an alias name")
					return s
				}
				it.alias = p.tok.text
				p.advance()
			}
			it.key = it.alias
			if it.key == "" {
				it.key = defaultKey(it.x, len(s.items)+1)
			}
		}
		s.items = append(s.items, it)
		if s.value && len(s.items) > 1 {
			p.fail(start, "SELECT VALUE takes one expression")
			return s
		}
		if !p.isOp(",") {
			return s
		}
		p.advance()
	}
}

// defaultKey names an output field that has no AS: the field or function
// name, else "_n" for the n-th item.
func defaultKey(x expr, n int) string {
	switch x := x.(type) {
	case *fieldExpr:
		return x.name
	case *dotExpr:
		return x.key
	case *callExpr:
		return x.name
	case *castExpr:
		return "cast"
	}
	return "_" + strconv.Itoa(n)
}

func (p *parser) parseExpr() expr {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth/4 {
		p.fail(p.tok, "expression nested too deeply")
		return nil
	}
	return p.parseOr()
}

func (p *parser) parseOr() expr {
	l := p.parseAnd()
	for p.err == nil && p.isKeyword("OR") {
		p.advance()
		r := p.parseAnd()
		l = &binExpr{op: "OR", l: l, r: r}
	}
	return l
}

func (p *parser) parseAnd() expr {
	l := p.parseNot()
	for p.err == nil && p.isKeyword("AND") {
		p.advance()
		r := p.parseNot()
		l = &binExpr{op: "AND", l: l, r: r}
	}
	return l
}

func (p *parser) parseNot() expr {
	if p.isKeyword("NOT") {
		p.advance()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth/4 {
			p.fail(p.tok, "expression nested too deeply")
			return nil
		}
		return &notExpr{p.parseNot()}
	}
	return p.parseCmp()
}

var cmpOps = map[string]string{"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (p *parser) parseCmp() expr {
	l := p.parseAdd()
	if p.err != nil {
		return l
	}
	if p.tok.kind == tOp {
		if op, ok := cmpOps[p.tok.text]; ok {
			p.advance()
			return &binExpr{op: op, l: l, r: p.parseAdd()}
		}
	}
	if p.isKeyword("IS") {
		p.advance()
		x := &isExpr{x: l}
		if p.isKeyword("NOT") {
			x.not = true
			p.advance()
		}
		switch {
		case p.isKeyword("NULL"):
		case p.isKeyword("UNDEFINED"):
			x.undefined = true
		default:
			p.unexpected("NULL or UNDEFINED")
			return nil
		}
		p.advance()
		return x
	}
	not := false
	if p.isKeyword("NOT") && p.peek().kind == tIdent && strings.EqualFold(p.peek().text, "IN") {
		not = true
		p.advance()
	}
	if p.isKeyword("IN") {
		p.advance()
		var list expr
		paren := false
		if p.isOp("(") {
			// ANSI form: x IN (a, b, c), taken as the array [a, b, c].
			p.advance()
			arr := &arrayExpr{}
			for p.err == nil {
				arr.elems = append(arr.elems, p.parseExpr())
				if !p.isOp(",") {
					break
				}
				p.advance()
			}
			p.expectOp(")")
			list, paren = arr, true
			if len(arr.elems) == 1 {
				paren = false
				list = arr.elems[0] // (x) is x: may be an array expression
			}
		} else {
			list = p.parseAdd()
		}
		return &inExpr{x: l, list: list, not: not, paren: paren}
	}
	return l
}

func (p *parser) parseAdd() expr {
	l := p.parseMul()
	for p.err == nil && (p.isOp("+") || p.isOp("-") || p.isOp("||")) {
		if p.isOp("||") {
			p.fail(p.tok, "'||' is not an AWS IoT SQL operator: use + or concat()")
			return nil
		}
		op := p.tok.text
		p.advance()
		l = &binExpr{op: op, l: l, r: p.parseMul()}
	}
	return l
}

func (p *parser) parseMul() expr {
	l := p.parseUnary()
	for p.err == nil && (p.isOp("*") || p.isOp("/") || p.isOp("%")) {
		op := p.tok.text
		p.advance()
		l = &binExpr{op: op, l: l, r: p.parseUnary()}
	}
	return l
}

func (p *parser) parseUnary() expr {
	if p.isOp("-") || p.isOp("+") {
		neg := p.tok.text == "-"
		p.advance()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth/4 {
			p.fail(p.tok, "expression nested too deeply")
			return nil
		}
		x := p.parseUnary()
		if !neg {
			return x
		}
		return &negExpr{x}
	}
	return p.parsePostfix(p.parsePrimary())
}

func (p *parser) parsePostfix(x expr) expr {
	for p.err == nil {
		switch {
		case p.isOp("."):
			p.advance()
			if p.tok.kind != tIdent {
				p.unexpected("a field name (use get() for names that are not identifiers)")
				return nil
			}
			x = &dotExpr{x: x, key: p.tok.text}
			p.advance()
		case p.isOp("["):
			p.advance()
			i := p.parseExpr()
			if !p.expectOp("]") {
				return nil
			}
			x = &indexExpr{x: x, i: i}
		default:
			return x
		}
	}
	return x
}

func (p *parser) parsePrimary() expr {
	t := p.tok
	switch t.kind {
	case tNumber:
		p.advance()
		isInt := !strings.ContainsAny(t.text, ".eE")
		v := numberValue(t.text, isInt, p.v1)
		if v.k == kUndefined {
			p.fail(t, "invalid number '%s'", t.raw)
		}
		return &litExpr{v}
	case tString:
		p.advance()
		return &litExpr{strV(t.text)}
	case tOp:
		switch t.text {
		case "(":
			p.advance()
			if p.isKeyword("SELECT") {
				return p.parseSubquery(t)
			}
			x := p.parseExpr()
			if !p.expectOp(")") {
				return nil
			}
			return x
		case "[":
			if p.v1 {
				p.fail(t, "array literals need SQL version 2016-03-23")
				return nil
			}
			p.advance()
			arr := &arrayExpr{elems: []expr{}}
			if p.isOp("]") {
				p.advance()
				return arr
			}
			for p.err == nil {
				arr.elems = append(arr.elems, p.parseExpr())
				if !p.isOp(",") {
					break
				}
				p.advance()
			}
			if !p.expectOp("]") {
				return nil
			}
			return arr
		case "{":
			if p.v1 {
				p.fail(t, "object literals need SQL version 2016-03-23")
				return nil
			}
			p.advance()
			obj := &objectExpr{}
			if p.isOp("}") {
				p.advance()
				return obj
			}
			for p.err == nil {
				if p.tok.kind != tString && p.tok.kind != tIdent {
					p.unexpected("an object key")
					return nil
				}
				obj.keys = append(obj.keys, p.tok.text)
				p.advance()
				if !p.expectOp(":") {
					return nil
				}
				obj.vals = append(obj.vals, p.parseExpr())
				if !p.isOp(",") {
					break
				}
				p.advance()
			}
			if !p.expectOp("}") {
				return nil
			}
			return obj
		case "*":
			p.fail(t, "* is allowed only as a SELECT item or as encode's first argument")
			return nil
		}
	case tIdent:
		up := strings.ToUpper(t.text)
		switch up {
		case "TRUE", "FALSE":
			p.advance()
			return &litExpr{boolV(up == "TRUE")}
		case "NULL":
			p.advance()
			return &litExpr{null}
		case "CASE":
			return p.parseCase()
		}
		if p.peek().kind == tOp && p.peek().text == "(" {
			return p.parseCall()
		}
		if reserved[up] {
			p.unexpected("an expression")
			return nil
		}
		p.advance()
		return &fieldExpr{t.text}
	}
	p.unexpected("an expression")
	return nil
}

func (p *parser) parseCase() expr {
	p.advance() // CASE
	c := &caseExpr{}
	if !p.isKeyword("WHEN") {
		c.operand = p.parseExpr()
	}
	for p.err == nil && p.isKeyword("WHEN") {
		p.advance()
		w := p.parseExpr()
		if !p.expectKeyword("THEN") {
			return nil
		}
		c.whens = append(c.whens, whenClause{when: w, then: p.parseExpr()})
	}
	if p.err != nil {
		return nil
	}
	if len(c.whens) == 0 {
		p.unexpected("WHEN")
		return nil
	}
	if p.isKeyword("ELSE") {
		p.advance()
		c.els = p.parseExpr()
	}
	if !p.expectKeyword("END") {
		return nil
	}
	return c
}

func (p *parser) parseSubquery(open token) expr {
	if p.v1 {
		p.fail(open, "nested object queries need SQL version 2016-03-23")
		return nil
	}
	q := &subquery{sel: p.parseSelect()}
	if p.err != nil {
		return nil
	}
	if !p.expectKeyword("FROM") {
		return nil
	}
	q.from = p.parseExpr()
	if p.err == nil && p.isKeyword("WHERE") {
		p.advance()
		q.where = p.parseExpr()
	}
	if p.err != nil || !p.expectOp(")") {
		return nil
	}
	return q
}

// castTypes maps the keywords allowed after AS in cast() to their result
// type; the last three need 2016-03-23 [DOC iot-sql-functions, cast].
var castTypes = map[string]string{
	"STRING": "String", "NVARCHAR": "String", "TEXT": "String", "NTEXT": "String", "VARCHAR": "String",
	"INT": "Int", "INTEGER": "Int", "DOUBLE": "Double",
	"DECIMAL": "Decimal", "BOOL": "Boolean", "BOOLEAN": "Boolean",
}

func (p *parser) parseCall() expr {
	nameTok := p.tok
	name := strings.ToLower(nameTok.text)
	p.advance() // name
	p.advance() // (
	if name == "cast" {
		x := p.parseExpr()
		if !p.expectKeyword("AS") {
			return nil
		}
		tt := p.tok
		typ, ok := castTypes[strings.ToUpper(tt.text)]
		if tt.kind != tIdent || !ok {
			p.unexpected("a cast type (String, Int, Decimal, Boolean, ...)")
			return nil
		}
		if p.v1 && (typ == "Decimal" || typ == "Boolean") {
			p.fail(tt, "cast to %s needs SQL version 2016-03-23", tt.text)
			return nil
		}
		p.advance()
		if !p.expectOp(")") {
			return nil
		}
		return &castExpr{x: x, typ: typ}
	}
	fn, ok := functions[name]
	if !ok {
		if external[name] {
			p.fail(nameTok, "function '%s' calls another AWS service and is not supported", nameTok.text)
		} else {
			p.fail(nameTok, "unknown function '%s'", nameTok.text)
		}
		return nil
	}
	if p.v1 && fn.v2 {
		p.fail(nameTok, "function '%s' needs SQL version 2016-03-23", nameTok.text)
		return nil
	}
	c := &callExpr{name: name, fn: fn}
	if !p.isOp(")") {
		for p.err == nil {
			if p.isOp("*") && name == "encode" && len(c.args) == 0 {
				c.args = append(c.args, &starExpr{})
				p.advance()
			} else {
				c.args = append(c.args, p.parseExpr())
			}
			if !p.isOp(",") {
				break
			}
			p.advance()
		}
	}
	if p.err != nil || !p.expectOp(")") {
		return nil
	}
	if len(c.args) < fn.min || (fn.max >= 0 && len(c.args) > fn.max) {
		p.fail(nameTok, "function '%s' takes %s, got %d", nameTok.text, fn.arity(), len(c.args))
		return nil
	}
	if fn.literal >= 0 {
		// The encoding scheme must be a literal string [DOC iot-sql-functions].
		if l, ok := c.args[fn.literal].(*litExpr); !ok || l.v.k != kString || !strings.EqualFold(l.v.s, "base64") {
			p.fail(nameTok, "function '%s' needs the literal encoding scheme 'base64'", nameTok.text)
			return nil
		}
	}
	if fn.regex > 0 {
		if l, ok := c.args[fn.regex].(*litExpr); ok && l.v.k == kString {
			if re, err := regexp.Compile(l.v.s); err == nil {
				c.re = re
			}
		}
	}
	return c
}
