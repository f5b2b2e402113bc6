package iotsql

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // a name or keyword; keywords are matched case-insensitively
	tNumber         // 12, 1.5, 2e3
	tString         // 'text' or "text", unescaped in tok.text
	tOp             // punctuation and operators, in tok.text
	tBad            // a character that starts no token, or an unterminated string
)

// token is one lexeme with its byte offset in the source.
type token struct {
	kind tokKind
	text string
	pos  int
	raw  string // the token as written (for error messages)
}

// lexer splits SQL text into tokens. AWS IoT SQL has no comments
// [DOC iot-sql-reference].
type lexer struct {
	src string
	pos int
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func (l *lexer) next() token {
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ' ', '\t', '\n', '\r', '\f':
			l.pos++
			continue
		}
		break
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start, raw: "<EOF>"}
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
			l.pos++
		}
		s := l.src[start:l.pos]
		return token{kind: tIdent, text: s, pos: start, raw: s}
	case c >= '0' && c <= '9' || (c == '.' && l.pos+1 < len(l.src) && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9'):
		for l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
			l.pos++
		}
		if l.pos < len(l.src) && l.src[l.pos] == '.' && l.pos+1 < len(l.src) && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9' {
			l.pos++
			for l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
				l.pos++
			}
		}
		if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
			j := l.pos + 1
			if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
				j++
			}
			if j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
				for j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
					j++
				}
				l.pos = j
			}
		}
		s := l.src[start:l.pos]
		return token{kind: tNumber, text: s, pos: start, raw: s}
	case c == '\'' || c == '"':
		return l.str(c)
	}
	for _, op := range [...]string{"<>", "!=", "<=", ">=", "||"} {
		if strings.HasPrefix(l.src[l.pos:], op) {
			l.pos += 2
			return token{kind: tOp, text: op, pos: start, raw: op}
		}
	}
	if strings.IndexByte("=<>+-*/%(),.[]{}:", c) >= 0 {
		l.pos++
		s := l.src[start:l.pos]
		return token{kind: tOp, text: s, pos: start, raw: s}
	}
	_, size := utf8.DecodeRuneInString(l.src[l.pos:])
	l.pos += size
	return token{kind: tBad, pos: start, raw: l.src[start:l.pos], text: "unexpected character"}
}

// str scans a string literal. Both quote characters delimit strings (AWS's
// own examples use "base64" and 'base64' alike); a quote is escaped by
// doubling it or with a backslash, and \n, \t, \r, \\ and \uXXXX are
// understood.
func (l *lexer) str(q byte) token {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == q {
				b.WriteByte(q)
				l.pos += 2
				continue
			}
			l.pos++
			return token{kind: tString, text: b.String(), pos: start, raw: l.src[start:l.pos]}
		case c == '\\' && l.pos+1 < len(l.src):
			e := l.src[l.pos+1]
			l.pos += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				d := jsonDecoder{data: []byte(l.src), pos: l.pos}
				if r, ok := d.hex4(); ok {
					b.WriteRune(r)
					l.pos = d.pos
				} else {
					b.WriteString(`\u`)
				}
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return token{kind: tBad, pos: start, raw: l.src[start:], text: "unterminated string literal"}
}
