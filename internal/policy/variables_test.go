package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLexTemplate(t *testing.T) {
	lit := func(s string) token { return token{kind: tokLiteral, text: s} }
	star := token{kind: tokStar}
	quest := token{kind: tokQuestion}
	variable := func(name string) token { return token{kind: tokVariable, text: name, raw: "${" + name + "}"} }
	tests := []struct {
		name    string
		in      string
		vars    bool
		want    []token
		wantErr string
	}{
		{"plain", "topic/a", true, []token{lit("topic/a")}, ""},
		{"wildcards", "a*b?", true, []token{lit("a"), star, lit("b"), quest}, ""},
		{"variable", "client/${iot:ClientId}", true, []token{lit("client/"), variable("iot:ClientId")}, ""},
		{"attribute variable", "${iot:Connection.Thing.Attributes[x]}/y", true, []token{variable("iot:Connection.Thing.Attributes[x]"), lit("/y")}, ""},
		{"brace escapes", "${*}${?}${$}", true, []token{lit("*?$")}, ""},
		{"paren escapes", "$(*)$(?)$($)", true, []token{lit("*?$")}, ""},
		{"other paren is literal", "$(x)", true, []token{lit("$(x)")}, ""},
		{"dollar alone", "$aws/things", true, []token{lit("$aws/things")}, ""},
		{"trailing dollar", "a$", true, []token{lit("a$")}, ""},
		{"variables off", "${iot:ClientId}*", false, []token{lit("${iot:ClientId}"), star}, ""},
		{"variables off escapes literal", "$(*)", false, []token{lit("$("), star, lit(")")}, ""},
		{"unterminated", "a/${iot:ClientId", true, nil, `unterminated policy variable "${iot:ClientId"`},
		{"empty", "${}", true, nil, `empty policy variable "${}"`},
		{"first brace closes", "${a${b}}", true, []token{variable("a${b"), lit("}")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lexTemplate(tc.in, tc.vars)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("lexTemplate(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("lexTemplate(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(token{})); diff != "" {
				t.Errorf("lexTemplate(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestExpandString(t *testing.T) {
	vars := Vars{
		"iot:ClientId": "dev1",
		"plus":         "a+b",
		"hash":         "a#",
		"star":         "a*",
		"question":     "a?",
		"dollar":       "$a",
		"empty":        "",
		"long":         strings.Repeat("x", maxSubstitutedLen+1),
		"max":          strings.Repeat("x", maxSubstitutedLen),
	}
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{"substituted", "c/${iot:ClientId}", "c/dev1", true},
		{"twice", "${iot:ClientId}/${iot:ClientId}", "dev1/dev1", true},
		{"unknown", "c/${iot:Nope}", "", false},
		{"plus kept literal", "${plus}", "${plus}", true},
		{"hash kept literal", "${hash}", "${hash}", true},
		{"star kept literal", "${star}", "${star}", true},
		{"question kept literal", "${question}", "${question}", true},
		{"dollar kept literal", "${dollar}", "${dollar}", true},
		{"empty value", "a${empty}b", "ab", true},
		{"too long kept literal", "${long}", "${long}", true},
		{"longest substituted", "${max}", strings.Repeat("x", maxSubstitutedLen), true},
		{"wildcards literal", "a*?${*}", "a*?*", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := expandString(tc.in, vars, true)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("expandString(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	if _, ok := expandString("${iot:ClientId}", nil, true); ok {
		t.Errorf("expandString with nil Variables resolved a variable")
	}
	if got, ok := expandString("${iot:ClientId}", nil, false); !ok || got != "${iot:ClientId}" {
		t.Errorf("expandString with variables disabled = %q, %v, want the literal text", got, ok)
	}
}

func TestMultiVars(t *testing.T) {
	mv := MultiVars{"a": {"1", "2"}, "empty": {}}
	if v, ok := mv.Lookup("a"); v != "1" || !ok {
		t.Errorf("Lookup(a) = %q, %v, want 1, true", v, ok)
	}
	if _, ok := mv.Lookup("empty"); ok {
		t.Errorf("Lookup(empty) found a value")
	}
	if got, ok := lookupValues(mv, "a"); !ok || !cmp.Equal(got, []string{"1", "2"}) {
		t.Errorf("lookupValues(a) = %q, %v", got, ok)
	}
	if got, ok := lookupValues(Vars{"a": "1"}, "a"); !ok || !cmp.Equal(got, []string{"1"}) {
		t.Errorf("lookupValues(Vars a) = %q, %v", got, ok)
	}
	if _, ok := lookupValues(nil, "a"); ok {
		t.Errorf("lookupValues(nil) found a value")
	}
}
