package iotsql

import (
	"strings"
)

// Template is an action field with substitution templates, such as
// "republish/${topic(2)}/${clientid()}" or "${payload.field}"
// [DOC iot-substitution-templates]. Each ${...} holds any expression the
// SELECT clause accepts, evaluated against the incoming message: SELECT
// aliases cannot be referenced. Text outside ${} is literal.
type Template struct {
	parts []templatePart
}

// templatePart is literal text, or an expression when x is not nil.
type templatePart struct {
	text string
	x    expr
}

// ParseTemplate parses an action field. A bad expression inside ${} is a
// *ParseError whose position is in s. Expressions follow SQL version
// 2016-03-23.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{}
	rest := 0
	for {
		i := strings.Index(s[rest:], "${")
		if i < 0 {
			if rest < len(s) {
				t.parts = append(t.parts, templatePart{text: s[rest:]})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, templatePart{text: s[rest : rest+i]})
		}
		start := rest + i + 2
		p := newParser(s, start, false)
		x := p.parseExpr()
		if p.err == nil && !p.isOp("}") {
			if p.tok.kind == tEOF {
				p.fail(p.tok, "missing '}' closing the substitution template at %d", start-2)
			} else {
				p.unexpected("'}'")
			}
		}
		if p.err != nil {
			return nil, p.err
		}
		t.parts = append(t.parts, templatePart{x: x})
		rest = p.tok.pos + 1
	}
}

// Expand evaluates the template's expressions against one message and
// joins the parts. A String expands to its text, other values to their
// standard String conversion (JSON for arrays and objects), and Undefined
// and Null to nothing [DOC iot-sql-data-types: Undefined serializes to an
// empty string by itself].
func (t *Template) Expand(in Input) (string, error) {
	if len(t.parts) == 1 && t.parts[0].x == nil {
		return t.parts[0].text, nil
	}
	var e env
	needDoc := false
	for _, p := range t.parts {
		needDoc = needDoc || p.x != nil
	}
	if needDoc {
		newEnv(&e, in, Version20160323, false)
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.x == nil {
			b.WriteString(p.text)
			continue
		}
		if s, ok := toString(p.x.eval(&e), false); ok {
			b.WriteString(s)
		}
	}
	return b.String(), nil
}

// String returns the template as written, each expression in canonical
// form.
func (t *Template) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.x == nil {
			b.WriteString(p.text)
			continue
		}
		b.WriteString("${")
		p.x.format(&b)
		b.WriteString("}")
	}
	return b.String()
}
