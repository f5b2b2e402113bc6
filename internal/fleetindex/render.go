package fleetindex

import "strings"

// String is the query in canonical form: explicit AND and OR, parentheses
// where an OR sits in an AND (or an AND in an OR), field groups spelled out
// per term, comparisons as field>v, and special characters escaped. It
// parses back to the same query, except that spelling out a field group can
// take a query with a leading wildcard past MaxLeadingWildcardLength.
func (q *Query) String() string {
	var b strings.Builder
	q.root.render(&b)
	return b.String()
}

func (n *node) render(b *strings.Builder) {
	switch n.kind {
	case nAll:
		b.WriteByte('*')
	case nTerm:
		n.t.render(b)
	case nNot:
		b.WriteString("NOT ")
		n.kids[0].renderKid(b)
	case nAnd, nOr:
		sep := " AND "
		if n.kind == nOr {
			sep = " OR "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.renderKid(b)
		}
	}
}

// renderKid renders a node inside another, in parentheses when it is an
// AND or an OR.
func (n *node) renderKid(b *strings.Builder) {
	if n.kind == nAnd || n.kind == nOr {
		b.WriteByte('(')
		n.render(b)
		b.WriteByte(')')
		return
	}
	n.render(b)
}

func (t *term) render(b *strings.Builder) {
	if t.f.kind != fAll {
		writeEscaped(b, t.f.name, true)
		if t.kind != tRange || t.cmp == "" {
			b.WriteByte(':')
		}
	}
	switch t.kind {
	case tAny:
		b.WriteByte('*')
	case tExact:
		writeEscaped(b, t.lit, t.f.kind == fAll)
	case tPhrase:
		writeQuoted(b, t.lit)
	case tWildcard:
		for i, r := range t.pat {
			switch {
			case r == wildStar:
				b.WriteByte('*')
			case r == wildOne:
				b.WriteByte('?')
			default:
				writeEscapedRune(b, r, i == 0 && t.f.kind == fAll)
			}
		}
	case tRange:
		if t.cmp != "" {
			b.WriteString(t.cmp)
			if t.cmp[0] == '>' {
				t.lo.render(b)
			} else {
				t.hi.render(b)
			}
			return
		}
		if t.lo.incl {
			b.WriteByte('[')
		} else {
			b.WriteByte('{')
		}
		t.lo.render(b)
		b.WriteString(" TO ")
		t.hi.render(b)
		if t.hi.incl {
			b.WriteByte(']')
		} else {
			b.WriteByte('}')
		}
	}
}

func (bd bound) render(b *strings.Builder) {
	switch {
	case bd.open:
		b.WriteByte('*')
	case bd.lit == "" || strings.IndexFunc(bd.lit, isSpace) >= 0 || bd.lit == "TO":
		writeQuoted(b, bd.lit)
	default:
		writeEscaped(b, bd.lit, false)
	}
}

// writeEscaped writes s as one unquoted word, escaping what the parser
// would read otherwise, and the operator words AND, OR, NOT and TO. Where a
// clause starts, a leading '-', '+', '!', "&&" or "||" is escaped too.
func writeEscaped(b *strings.Builder, s string, clauseStart bool) {
	switch s {
	case "AND", "OR", "NOT", "TO":
		b.WriteByte('\\')
		b.WriteString(s)
		return
	}
	for i, r := range s {
		writeEscapedRune(b, r, clauseStart && i == 0)
	}
}

func writeEscapedRune(b *strings.Builder, r rune, first bool) {
	switch r {
	case '\\', '(', ')', ':', '"', '[', ']', '{', '}', '<', '>', '*', '?',
		'~', '^', '/', '`', '@', '#', '%', '\'', ';', ',':
		b.WriteByte('\\')
	case '-', '+', '!':
		if first {
			b.WriteByte('\\')
		}
	case '&', '|':
		// "&&" and "||" are operators where a clause starts.
		if first {
			b.WriteByte('\\')
		}
	default:
		if isSpace(r) {
			b.WriteByte('\\')
		}
	}
	b.WriteRune(r)
}

// writeQuoted writes s as a quoted phrase.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}
