package fleetindex

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iotcore/iotcore/internal/iot"
)

// Limits of the query language.
const (
	// MaxTerms is the most terms a query may have [DOC query-syntax: "The
	// maximum number of terms in a query is twelve"]. A field group such as
	// thingName:(a OR b) counts one term per value.
	MaxTerms = 12
	// MaxLeadingWildcardLength is the longest query, in characters, that
	// may use a leading wildcard [DOC query-syntax: "Queries that include a
	// leading wildcard have a max query length of 100 characters"].
	MaxLeadingWildcardLength = 100
	// maxDepth bounds nesting of parentheses and NOT.
	// AWS uncertain: AWS documents no nesting limit.
	maxDepth = 32
)

// Parse parses a query string of the fleet-indexing query language. Its
// error is an *iot.Error with code InvalidQueryException whose message says
// what is wrong and at which character (counting from 1).
func Parse(query string) (*Query, error) {
	p := &parser{src: query}
	p.space()
	if p.eof() {
		return nil, p.fail(0, "the query is empty")
	}
	root, err := p.or(field{kind: fAll})
	if err != nil {
		return nil, err
	}
	p.space()
	if !p.eof() {
		if p.peek() == ')' {
			return nil, p.fail(p.pos, "')' closes no '('")
		}
		return nil, p.fail(p.pos, "unexpected %q", p.rest())
	}
	if p.terms > MaxTerms {
		return nil, p.fail(-1, "the query has %d terms; the maximum is %d", p.terms, MaxTerms)
	}
	if p.leading > 1 {
		return nil, p.fail(-1, "only one term may begin with a wildcard; the query has %d", p.leading)
	}
	if n := utf8.RuneCountInString(query); p.leading == 1 && n > MaxLeadingWildcardLength {
		return nil, p.fail(-1, "a query with a leading wildcard may have at most %d characters; it has %d", MaxLeadingWildcardLength, n)
	}
	return &Query{root: root}, nil
}

type parser struct {
	src     string
	pos     int // byte offset
	depth   int
	terms   int
	leading int // terms that begin with a wildcard
}

// fail makes the InvalidQueryException; pos < 0 means the whole query.
func (p *parser) fail(pos int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if pos >= 0 {
		return iot.Errorf(iot.InvalidQuery, "invalid query at character %d: %s", utf8.RuneCountInString(p.src[:pos])+1, msg)
	}
	return iot.Errorf(iot.InvalidQuery, "invalid query: %s", msg)
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

// rest is what remains, abbreviated, for messages.
func (p *parser) rest() string {
	r := p.src[p.pos:]
	if len(r) > 20 {
		i := 20
		for i > 0 && !utf8.RuneStart(r[i]) {
			i--
		}
		r = r[:i] + "…"
	}
	return r
}

// space skips white space as Java's Character.isWhitespace defines it
// [DOC query-syntax: "Words are separated by white-space characters as
// defined by Java's Character.isWhitespace(int)"].
func (p *parser) space() {
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isSpace(r) {
			return
		}
		p.pos += n
	}
}

// isSpace is Java's Character.isWhitespace: Unicode space separators other
// than the no-break spaces, and the ASCII controls \t \n \v \f \r and
// U+001C–U+001F.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f:
		return true
	case 0xa0, 0x2007, 0x202f:
		return false
	}
	return r > 0x7f && (unicode.Is(unicode.Zs, r) || r == 0x2028 || r == 0x2029)
}

// keyword reports whether the operator kw (AND, OR, NOT, TO, &&, ||)
// starts at the current position as a whole word.
func (p *parser) keyword(kw string) bool {
	if !strings.HasPrefix(p.src[p.pos:], kw) {
		return false
	}
	if kw == "&&" || kw == "||" {
		return true
	}
	end := p.pos + len(kw)
	if end == len(p.src) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(p.src[end:])
	return isSpace(r) || strings.ContainsRune("()\"[]{}", r)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.fail(p.pos, "the query nests parentheses or NOT more than %d deep", maxDepth)
	}
	return nil
}

// or := and { (OR | "||") and }
func (p *parser) or(f field) (*node, error) {
	first, err := p.and(f)
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		p.space()
		switch {
		case p.keyword("OR"):
			p.pos += 2
		case p.keyword("||"):
			p.pos += 2
		default:
			if len(kids) == 1 {
				return first, nil
			}
			return &node{kind: nOr, kids: kids}, nil
		}
		n, err := p.and(f)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
}

// and := unary { [AND | "&&"] unary }: the default operator is AND [DOC
// query-syntax: "The default operator is AND"].
func (p *parser) and(f field) (*node, error) {
	first, err := p.unary(f)
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		p.space()
		if p.eof() || p.peek() == ')' || p.keyword("OR") || p.keyword("||") {
			break
		}
		switch {
		case p.keyword("AND"):
			p.pos += 3
		case p.keyword("&&"):
			p.pos += 2
		}
		n, err := p.unary(f)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{kind: nAnd, kids: kids}, nil
}

// unary := (NOT | "!" | "-") unary | "+" unary | primary. The hyphen
// excludes [DOC query-syntax: "thingName:(tv* AND -plasma)"]; "+" (Lucene's
// required) changes nothing when the default operator is AND.
func (p *parser) unary(f field) (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.space()
	start := p.pos
	not := false
	switch {
	case p.keyword("NOT"):
		p.pos += 3
		not = true
	case p.peek() == '!' || p.peek() == '-':
		p.pos++
		not = true
	case p.peek() == '+':
		p.pos++
	}
	if p.pos > start {
		if p.src[start] != 'N' && (p.eof() || isSpace(rune(p.peek()))) {
			return nil, p.fail(start, "%q must be followed by a term without a space", p.src[start])
		}
		n, err := p.unary(f)
		if err != nil {
			return nil, err
		}
		if not {
			return &node{kind: nNot, kids: []*node{n}}, nil
		}
		return n, nil
	}
	return p.primary(f)
}

// primary := "(" or ")" | phrase | range | comparison | word [":" value | cmp value]
func (p *parser) primary(f field) (*node, error) {
	start := p.pos
	if p.eof() {
		return nil, p.fail(p.pos, "a term is missing")
	}
	switch c := p.peek(); c {
	case '(':
		return p.group(f)
	case ')':
		return nil, p.fail(p.pos, "a term is missing before ')'")
	case '"':
		return p.phraseTerm(f)
	case '[', '{':
		return p.rangeTerm(f)
	case '<', '>':
		if f.kind == fAll {
			return nil, p.fail(p.pos, "the comparison %q needs a field, as in attributes.x%c5", c, c)
		}
		return p.comparison(f)
	case ':':
		return nil, p.fail(p.pos, "a field name is missing before ':'")
	case ']', '}':
		return nil, p.fail(p.pos, "%q closes no range", c)
	}
	for _, kw := range []string{"AND", "OR", "&&", "||"} {
		if p.keyword(kw) {
			return nil, p.fail(p.pos, "a term is missing before %s", kw)
		}
	}
	w, err := p.word()
	if err != nil {
		return nil, err
	}
	afterWord := p.pos
	p.space()
	switch c := p.peek(); {
	case c == ':':
		name, err := p.fieldName(w, start)
		if err != nil {
			return nil, err
		}
		p.pos++
		return p.value(resolveField(name), start)
	case (c == '<' || c == '>'):
		name, err := p.fieldName(w, start)
		if err != nil {
			return nil, err
		}
		return p.comparison(resolveField(name))
	}
	p.pos = afterWord
	return p.wordTerm(f, w, start)
}

// group := "(" or ")", every term in it defaulting to field f [DOC
// query-syntax: "Field grouping"].
func (p *parser) group(f field) (*node, error) {
	open := p.pos
	p.pos++
	p.space()
	if p.peek() == ')' {
		return nil, p.fail(open, "'()' is empty")
	}
	n, err := p.or(f)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.peek() != ')' {
		if p.eof() {
			return nil, p.fail(open, "'(' is never closed")
		}
		return nil, p.fail(p.pos, "unexpected %q", p.rest())
	}
	p.pos++
	return n, nil
}

func (p *parser) fieldName(w word, start int) (string, error) {
	if w.wild {
		return "", p.fail(start, "a field name cannot contain a wildcard")
	}
	return w.lit, nil
}

// value reads what follows "field:".
func (p *parser) value(f field, fieldStart int) (*node, error) {
	p.space()
	start := p.pos
	if p.eof() {
		return nil, p.fail(fieldStart, "the value of %s is missing", f.name)
	}
	switch c := p.peek(); c {
	case '(':
		return p.group(f)
	case '"':
		return p.phraseTerm(f)
	case '[', '{':
		return p.rangeTerm(f)
	case '<', '>':
		return p.comparison(f)
	case ')', ':', ']', '}':
		return nil, p.fail(start, "the value of %s is missing", f.name)
	}
	for _, kw := range []string{"AND", "OR", "NOT", "&&", "||"} {
		if p.keyword(kw) {
			return nil, p.fail(start, "the value of %s is missing (to search for the word %s, write \\%s)", f.name, kw, kw)
		}
	}
	w, err := p.word()
	if err != nil {
		return nil, err
	}
	return p.wordTerm(f, w, start)
}

// word is one unquoted value or field name.
type word struct {
	lit  string // unescaped, wildcards as '*' and '?'
	wild bool   // has an unescaped * or ?
	pat  []rune // the runes, wildcards as wildStar and wildOne
}

// word reads an unquoted word. A '-', '+' or '!' is an operator only where
// a clause starts (see unary); after "field:", a comparison or in a range it
// is part of the word, so attributes.x:-5 is the number -5.
func (p *parser) word() (word, error) {
	var w word
	var lit strings.Builder
	start := p.pos
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.src[p.pos:])
		if isSpace(r) {
			break
		}
		switch r {
		case '(', ')', ':', '"', '[', ']', '{', '}', '<', '>':
			goto done
		case '\\':
			p.pos += n
			if p.eof() {
				return w, p.fail(p.pos-n, "'\\' escapes nothing at the end of the query")
			}
			r, n = utf8.DecodeRuneInString(p.src[p.pos:])
			lit.WriteRune(r)
			w.pat = append(w.pat, r)
			p.pos += n
			continue
		case '*', '?':
			w.wild = true
			lit.WriteRune(r)
			if r == '*' {
				w.pat = append(w.pat, wildStar)
			} else {
				w.pat = append(w.pat, wildOne)
			}
			p.pos += n
			continue
		}
		if err := p.unsupported(r); err != nil {
			return w, err
		}
		lit.WriteRune(r)
		w.pat = append(w.pat, r)
		p.pos += n
	}
done:
	if p.pos == start {
		return w, p.fail(p.pos, "a term is missing")
	}
	w.lit = lit.String()
	return w, nil
}

// unsupported rejects what the language does not have [DOC query-syntax,
// "Unsupported features"]. Escaped with '\', these characters are literal.
// AWS uncertain: the page lists '\' itself as unsupported while also
// supporting "Escaping special characters (such as with \)"; '\' is read
// as the escape character.
func (p *parser) unsupported(r rune) error {
	switch r {
	case '~':
		return p.fail(p.pos, "fuzzy and proximity searches ('~') are not supported")
	case '^':
		return p.fail(p.pos, "boosting ('^') is not supported")
	case '/':
		return p.fail(p.pos, "regular expressions ('/') are not supported; escape a literal '/' as '\\/'")
	case '`', '@', '#', '%', '\'', ';', ',':
		return p.fail(p.pos, "the character %q is not supported; escape it as '\\%c' or quote the value", r, r)
	}
	return nil
}

// phrase reads a quoted string; '\' escapes any character in it.
func (p *parser) phrase() (string, error) {
	open := p.pos
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.fail(open, "the quoted phrase is never closed")
		}
		r, n := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += n
		switch r {
		case '"':
			return b.String(), nil
		case '\\':
			if p.eof() {
				return "", p.fail(p.pos-n, "'\\' escapes nothing at the end of the query")
			}
			r, n = utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += n
		}
		b.WriteRune(r)
	}
}

// phraseTerm is a quoted value: no wildcards; one word is an exact term,
// several must appear in that order [DOC query-syntax: "Terms and phrases"].
func (p *parser) phraseTerm(f field) (*node, error) {
	start := p.pos
	s, err := p.phrase()
	if err != nil {
		return nil, err
	}
	if err := p.noSuffix(); err != nil {
		return nil, err
	}
	words := splitWords(s)
	if len(words) == 0 {
		return nil, p.fail(start, "the quoted phrase is empty")
	}
	return p.literal(f, words), nil
}

// noSuffix rejects Lucene's ~ and ^ after a term.
func (p *parser) noSuffix() error {
	if c := p.peek(); c == '~' || c == '^' {
		return p.unsupported(rune(c))
	}
	return nil
}

// splitWords splits s at white space.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, isSpace)
}

// literal makes the term for a value without wildcards.
func (p *parser) literal(f field, words []string) *node {
	p.terms++
	t := &term{f: f, lit: strings.Join(words, " ")}
	if len(words) == 1 {
		t.kind = tExact
		t.low = lower(t.lit)
		t.num, t.isNum = parseNumber(t.lit)
	} else {
		t.kind = tPhrase
		for _, w := range words {
			t.words = append(t.words, lower(w))
		}
	}
	return &node{kind: nTerm, t: t}
}

// wordTerm makes the term for an unquoted value.
func (p *parser) wordTerm(f field, w word, start int) (*node, error) {
	if err := p.noSuffix(); err != nil {
		return nil, err
	}
	if !w.wild {
		// An escaped space makes a phrase.
		words := splitWords(w.lit)
		if len(words) == 0 {
			return nil, p.fail(start, "the term is only escaped white space")
		}
		return p.literal(f, words), nil
	}
	p.terms++
	if len(w.pat) == 1 && w.pat[0] == wildStar {
		if f.kind == fAll {
			// "searching for "*" matches all things" [DOC query-syntax].
			return &node{kind: nAll}, nil
		}
		return &node{kind: nTerm, t: &term{f: f, kind: tAny}}, nil
	}
	if w.pat[0] < 0 {
		p.leading++
	}
	for _, r := range w.pat {
		if r >= 0 && isSpace(r) {
			return nil, p.fail(start, "a wildcard term cannot contain a space")
		}
	}
	t := &term{f: f, kind: tWildcard, pat: w.pat, lpat: make([]rune, len(w.pat))}
	for i, r := range w.pat {
		t.lpat[i] = lowerRune(r)
	}
	return &node{kind: nTerm, t: t}, nil
}

// rangeTerm := ("[" | "{") bound TO bound ("]" | "}") [DOC example-queries:
// attributes.myAttribute:{75 TO 80]].
func (p *parser) rangeTerm(f field) (*node, error) {
	open := p.pos
	t := &term{f: f, kind: tRange}
	t.lo.incl = p.peek() == '['
	p.pos++
	p.space()
	var err error
	if t.lo, err = p.bound(t.lo.incl); err != nil {
		return nil, err
	}
	p.space()
	if !p.keyword("TO") {
		if p.eof() {
			return nil, p.fail(open, "the range is never closed")
		}
		return nil, p.fail(p.pos, "expected TO in the range")
	}
	p.pos += 2
	p.space()
	if p.eof() || p.peek() == ']' || p.peek() == '}' {
		return nil, p.fail(p.pos, "the range's upper bound is missing")
	}
	if t.hi, err = p.bound(false); err != nil {
		return nil, err
	}
	p.space()
	switch p.peek() {
	case ']':
		t.hi.incl = true
	case '}':
	default:
		if p.eof() {
			return nil, p.fail(open, "the range is never closed")
		}
		return nil, p.fail(p.pos, "expected ']' or '}' to close the range")
	}
	p.pos++
	if err := p.noSuffix(); err != nil {
		return nil, err
	}
	p.finishRange(t)
	return &node{kind: nTerm, t: t}, nil
}

// bound reads a range bound: a word, a quoted string or "*".
func (p *parser) bound(incl bool) (bound, error) {
	b := bound{incl: incl}
	start := p.pos
	var s string
	switch p.peek() {
	case '"':
		var err error
		if s, err = p.phrase(); err != nil {
			return b, err
		}
	case ']', '}':
		return b, p.fail(p.pos, "the range's upper bound is missing")
	case '[', '{', '(', ')', ':', '<', '>':
		return b, p.fail(p.pos, "unexpected %q in a range", p.peek())
	default:
		if p.keyword("TO") {
			return b, p.fail(p.pos, "the range's lower bound is missing")
		}
		w, err := p.word()
		if err != nil {
			return b, err
		}
		if w.wild {
			if len(w.pat) == 1 {
				b.open = true
				return b, nil
			}
			return b, p.fail(start, "a range bound cannot contain a wildcard")
		}
		s = w.lit
	}
	b.lit, b.low = s, lower(s)
	b.num, b.isNum = parseNumber(s)
	return b, nil
}

// comparison := ("<" | "<=" | ">" | ">=") value [DOC example-queries:
// attributes.attr2<5]. It is a range open at one end.
func (p *parser) comparison(f field) (*node, error) {
	start := p.pos
	op := string(p.peek())
	p.pos++
	if p.peek() == '=' {
		op += "="
		p.pos++
	}
	p.space()
	var b bound
	switch {
	case p.eof():
		return nil, p.fail(start, "the value after %q is missing", op)
	case p.peek() == '"':
		s, err := p.phrase()
		if err != nil {
			return nil, err
		}
		b.lit = s
	default:
		if c := p.peek(); strings.IndexByte("()[]{}<>:", c) >= 0 {
			return nil, p.fail(p.pos, "the value after %q is missing", op)
		}
		w, err := p.word()
		if err != nil {
			return nil, err
		}
		if w.wild {
			return nil, p.fail(start, "a comparison's value cannot contain a wildcard")
		}
		b.lit = w.lit
	}
	if err := p.noSuffix(); err != nil {
		return nil, err
	}
	b.low = lower(b.lit)
	b.num, b.isNum = parseNumber(b.lit)
	b.incl = len(op) == 2
	t := &term{f: f, kind: tRange, cmp: op}
	if op[0] == '>' {
		t.lo, t.hi = b, bound{open: true}
	} else {
		t.lo, t.hi = bound{open: true}, b
	}
	p.finishRange(t)
	return &node{kind: nTerm, t: t}, nil
}

// finishRange counts the term and decides how values compare: as numbers
// when every bound given is a number [DOC example-queries: "[75 TO 80]
// ... a numeric range"], as strings otherwise ["abcd" TO "abcf"].
func (p *parser) finishRange(t *term) {
	p.terms++
	t.numeric = (t.lo.open || t.lo.isNum) && (t.hi.open || t.hi.isNum) && !(t.lo.open && t.hi.open)
}

// parseNumber reads a decimal number: [+-]digits[.digits][e[+-]digits].
// Hexadecimal, Inf, NaN and underscores are not numbers here.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range
		return 0, false
	}
	return f, true
}
