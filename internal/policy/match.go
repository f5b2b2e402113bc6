package policy

import (
	"strings"
	"unicode/utf8"
)

// globShape selects the matching strategy of a glob.
type globShape uint8

const (
	shapeExact   globShape = iota // no wildcard: equality
	shapeAny                      // "*"
	shapePrefix                   // "lit*"
	shapeSuffix                   // "*lit"
	shapeGeneral                  // anything else
)

// glob is a compiled Action or Resource pattern: "*" matches any sequence
// of characters, "/" included, "?" exactly one character; everything else,
// MQTT's "+" and "#" included, matches itself [DOC pub-sub-policy].
type glob struct {
	shape globShape
	fold  bool   // ASCII case-insensitive (actions); lit and toks are lower case
	lit   string // shapeExact, shapePrefix, shapeSuffix
	toks  []token
}

// newGlob compiles toks, which hold only literal and wildcard tokens.
func newGlob(toks []token, fold bool) glob {
	// Merge adjacent literals and runs of stars ("**" is "*").
	merged := make([]token, 0, len(toks))
	for _, t := range toks {
		if fold && t.kind == tokLiteral {
			t.text = asciiLower(t.text)
		}
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if t.kind == tokLiteral && last.kind == tokLiteral {
				last.text += t.text
				continue
			}
			if t.kind == tokStar && last.kind == tokStar {
				continue
			}
		}
		merged = append(merged, t)
	}
	g := glob{fold: fold, toks: merged}
	switch {
	case len(merged) == 0:
		g.shape = shapeExact
	case len(merged) == 1 && merged[0].kind == tokLiteral:
		g.shape, g.lit = shapeExact, merged[0].text
	case len(merged) == 1 && merged[0].kind == tokStar:
		g.shape = shapeAny
	case len(merged) == 2 && merged[0].kind == tokLiteral && merged[1].kind == tokStar:
		g.shape, g.lit = shapePrefix, merged[0].text
	case len(merged) == 2 && merged[0].kind == tokStar && merged[1].kind == tokLiteral:
		g.shape, g.lit = shapeSuffix, merged[1].text
	default:
		g.shape = shapeGeneral
	}
	return g
}

// compileGlob compiles a pattern with wildcards and no variables.
func compileGlob(pattern string, fold bool) glob {
	toks, _ := lexTemplate(pattern, false) // cannot fail without variables
	return newGlob(toks, fold)
}

// match reports whether s matches g.
func (g *glob) match(s string) bool {
	switch g.shape {
	case shapeAny:
		return true
	case shapeExact:
		return len(s) == len(g.lit) && g.hasPrefix(s, g.lit)
	case shapePrefix:
		return g.hasPrefix(s, g.lit)
	case shapeSuffix:
		return len(s) >= len(g.lit) && g.hasPrefix(s[len(s)-len(g.lit):], g.lit)
	}
	return g.matchGeneral(s)
}

// matchGeneral is the classic linear-time-in-practice wildcard match: on a
// mismatch it backtracks to the last "*" and lets it consume one more
// character (rune, so that "?" after it stays aligned on characters).
func (g *glob) matchGeneral(s string) bool {
	p := g.toks
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for {
		if pi < len(p) {
			t := &p[pi]
			switch t.kind {
			case tokStar:
				if pi == len(p)-1 {
					return true // a trailing "*" takes the rest
				}
				starPi, starSi = pi, si
				if !g.skipTo(&starSi, s, pi+1) {
					return false
				}
				pi, si = pi+1, starSi
				continue
			case tokQuestion:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case tokLiteral:
				if g.hasPrefix(s[si:], t.text) {
					si += len(t.text)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starPi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		if !g.skipTo(&starSi, s, starPi+1) {
			return false
		}
		pi, si = starPi+1, starSi
	}
}

// skipTo moves *si, the end of what a "*" consumes, to the next place
// where the literal token at p (if any) occurs: the positions in between
// cannot match. It reports false when the literal does not occur at all,
// in which case no choice of any earlier "*" can match either.
func (g *glob) skipTo(si *int, s string, p int) bool {
	if g.fold || p >= len(g.toks) || g.toks[p].kind != tokLiteral {
		return true
	}
	i := strings.Index(s[*si:], g.toks[p].text)
	if i < 0 {
		return false
	}
	*si += i
	return true
}

// hasPrefix reports whether s starts with prefix, which is lower case when
// g.fold is set.
func (g *glob) hasPrefix(s, prefix string) bool {
	if !g.fold {
		return strings.HasPrefix(s, prefix)
	}
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// asciiLower lowers ASCII letters only: action names are ASCII, and
// Unicode case folding could change byte lengths.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
