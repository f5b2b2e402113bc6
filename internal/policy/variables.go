package policy

import (
	"fmt"
	"strings"
)

// Variables supplies the values of policy variables and condition keys,
// e.g. "iot:ClientId", "iot:Connection.Thing.ThingName",
// "iot:Certificate.Subject.CommonName", "iot:Connection.Thing.Attributes[color]",
// "aws:SourceIp". Names are passed exactly as the document spells them
// (without "${" and "}"). A name that is not known must report ok == false:
// AWS then treats the variable as unresolvable and the statement, or the
// resource pattern, that uses it does not match.
type Variables interface {
	Lookup(name string) (value string, ok bool)
}

// ListVariables is an optional capability of Variables for multi-valued
// condition keys such as "iot:ConnectAttributes" or
// "iot:Certificate.Subject.Country.List". Condition operators see every
// value; policy variables in resources and condition values use Lookup.
type ListVariables interface {
	Variables
	LookupList(name string) (values []string, ok bool)
}

// Vars is a map of single-valued variables.
type Vars map[string]string

// Lookup implements Variables.
func (v Vars) Lookup(name string) (string, bool) {
	s, ok := v[name]
	return s, ok
}

// MultiVars is a map of possibly multi-valued variables. Lookup returns
// the first value; a name mapped to an empty list is not known.
type MultiVars map[string][]string

// Lookup implements Variables.
func (v MultiVars) Lookup(name string) (string, bool) {
	s := v[name]
	if len(s) == 0 {
		return "", false
	}
	return s[0], true
}

// LookupList implements ListVariables.
func (v MultiVars) LookupList(name string) ([]string, bool) {
	s := v[name]
	return s, len(s) > 0
}

var (
	_ ListVariables = MultiVars(nil)
	_ Variables     = Vars(nil)
)

// lookupValues returns every value of name in vars, which may be nil.
func lookupValues(vars Variables, name string) ([]string, bool) {
	if vars == nil {
		return nil, false
	}
	if lv, ok := vars.(ListVariables); ok {
		vals, ok := lv.LookupList(name)
		return vals, ok && len(vals) > 0
	}
	v, ok := vars.Lookup(name)
	if !ok {
		return nil, false
	}
	return []string{v}, true
}

// maxSubstitutedLen is the longest variable value AWS substitutes
// [DOC cert-policy-variables: "strings longer than 1024 characters are not
// substituted"].
const maxSubstitutedLen = 1024

// substitutable reports whether AWS substitutes a variable with value v:
// values containing "*", "?", "+", "#" or "$", or too long, are left as the
// literal "${name}" text [DOC cert-policy-variables]. The rule keeps a value
// from widening a pattern ("*") or a topic filter ("+", "#").
func substitutable(v string) bool {
	return len(v) <= maxSubstitutedLen && !strings.ContainsAny(v, "*?+#$")
}

// tokKind is the kind of a template token.
type tokKind uint8

const (
	tokLiteral  tokKind = iota // text matched as is
	tokStar                    // "*": any sequence of characters, "/" included
	tokQuestion                // "?": exactly one character
	tokVariable                // "${name}": text holds name, raw the source text
)

// token is one piece of a Resource or condition value.
type token struct {
	kind tokKind
	text string // tokLiteral: the text; tokVariable: the variable name
	raw  string // tokVariable: "${name}" as written
}

// lexTemplate splits s into literal text, wildcards and, if vars is set,
// policy variables. The escapes "${*}", "${?}", "${$}" and their "$(*)",
// "$(?)", "$($)" spellings are literal characters [DOC iot-policy-variables
// writes the parenthesised form, IAM the braced one; both are accepted].
// Without vars (documents before 2012-10-17) "$" is an ordinary character.
func lexTemplate(s string, vars bool) ([]token, error) {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: tokLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '*':
			flush()
			toks = append(toks, token{kind: tokStar})
			i++
		case c == '?':
			flush()
			toks = append(toks, token{kind: tokQuestion})
			i++
		case vars && c == '$' && i+3 < len(s) && s[i+1] == '(' && s[i+3] == ')' && strings.IndexByte("*?$", s[i+2]) >= 0:
			lit.WriteByte(s[i+2])
			i += 4
		case vars && c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated policy variable %q", s[i:])
			}
			name := s[i+2 : i+2+end]
			raw := s[i : i+3+end]
			i += 3 + end
			switch name {
			case "":
				return nil, fmt.Errorf("empty policy variable %q", raw)
			case "*", "?", "$":
				lit.WriteString(name)
			default:
				flush()
				toks = append(toks, token{kind: tokVariable, text: name, raw: raw})
			}
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return toks, nil
}

// expand substitutes the variables of toks from vars. Wildcard tokens are
// kept when wildcards is set and become literal "*" and "?" otherwise. It
// reports false if a variable is unknown to vars; a known variable whose
// value is not substitutable becomes its literal "${name}" text.
func expand(toks []token, vars Variables, wildcards bool) ([]token, bool) {
	out := make([]token, 0, len(toks))
	add := func(text string) {
		if n := len(out); n > 0 && out[n-1].kind == tokLiteral {
			out[n-1].text += text
			return
		}
		out = append(out, token{kind: tokLiteral, text: text})
	}
	for _, t := range toks {
		switch t.kind {
		case tokLiteral:
			add(t.text)
		case tokStar:
			if wildcards {
				out = append(out, t)
			} else {
				add("*")
			}
		case tokQuestion:
			if wildcards {
				out = append(out, t)
			} else {
				add("?")
			}
		case tokVariable:
			if vars == nil {
				return nil, false
			}
			v, ok := vars.Lookup(t.text)
			if !ok {
				return nil, false
			}
			if !substitutable(v) {
				v = t.raw
			}
			add(v)
		}
	}
	return out, true
}

// expandString substitutes the variables of s and returns it as plain text,
// with "*" and "?" literal, for operators such as StringEquals.
func expandString(s string, vars Variables, enabled bool) (string, bool) {
	toks, err := lexTemplate(s, enabled)
	if err != nil {
		return "", false
	}
	out, ok := expand(toks, vars, false)
	if !ok {
		return "", false
	}
	if len(out) == 0 {
		return "", true
	}
	return out[0].text, true
}
