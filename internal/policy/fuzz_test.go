package policy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics, that documents it accepts
// render canonically and parse back to the same Document, and that
// compiling and evaluating them does not panic either.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.doc)
	}
	for _, doc := range goldenInputs(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := Parse(doc)
		if err != nil {
			if d != nil {
				t.Fatalf("Parse returned a Document with error %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		raw, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		d2, err := Parse(string(raw))
		if err != nil {
			if strings.Contains(err.Error(), "the maximum is") {
				return // the canonical form may be longer than the input
			}
			t.Fatalf("Parse(MarshalJSON(Parse(%q))) = %v\ncanonical: %s", doc, err, raw)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Fatalf("round trip of %q mismatch (-before +after):\n%s", doc, diff)
		}
		_ = d.References()
		s := Compile([]*Document{d}, Vars{"iot:ClientId": "c1"})
		_ = s.Decide("iot:Connect", arn+"client/c1", nil)
	})
}

// goldenInputs returns the input documents of testdata/parse.
func goldenInputs(f *testing.F) []string {
	var out []string
	files, _ := filepath.Glob("testdata/parse/*.txt")
	for _, path := range files {
		g := readGolden(f, path)
		for _, in := range g.get("input") {
			out = append(out, strings.TrimSuffix(in, "\n"))
		}
	}
	return out
}

// FuzzDecide evaluates a fuzzed document with a fuzzed variable against a
// fuzzed request, checking that Decide (cached or not) and Explain agree
// and that the decision obeys the Deny-wins rule.
func FuzzDecide(f *testing.F) {
	for _, tc := range decideCases {
		doc := `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
		if len(tc.docs) > 0 {
			doc = tc.docs[0]
		}
		name, value := "iot:ClientId", "c1"
		for k, v := range tc.vars {
			name, value = k, v
		}
		ctxValue := ""
		if v := tc.req["iot:ConnectAttributes"]; len(v) > 0 {
			ctxValue = v[0]
		}
		f.Add(doc, name, value, tc.action, tc.resource, ctxValue)
	}
	f.Fuzz(func(t *testing.T, doc, name, value, action, resource, ctxValue string) {
		d, err := Parse(doc)
		if err != nil {
			return
		}
		vars := Vars{name: value}
		var req Variables
		if ctxValue != "" {
			req = MultiVars{"iot:ConnectAttributes": strings.Split(ctxValue, ",")}
		}
		cached := Compile([]*Document{d}, vars)
		uncached := CompileWith([]*Document{d}, vars, Options{CacheSize: -1})
		first := cached.Decide(action, resource, req)
		second := cached.Decide(action, resource, req)
		plain := uncached.Decide(action, resource, req)
		e := uncached.Explain(action, resource, req)
		if first != second || first != plain || first != e.Decision {
			t.Fatalf("decisions disagree: cached %v then %v, uncached %v, Explain %v", first, second, plain, e.Decision)
		}
		switch {
		case len(e.Denying) > 0 && e.Decision != ExplicitDeny,
			len(e.Denying) == 0 && len(e.Allowing) > 0 && e.Decision != Allow,
			len(e.Denying) == 0 && len(e.Allowing) == 0 && e.Decision != ImplicitDeny:
			t.Fatalf("Explain %+v breaks Deny-wins", e)
		}
		// Adding a Deny-all document must deny; adding nothing else changes.
		denyAll := &Document{Statements: []Statement{{Effect: EffectDeny, Actions: []string{"*"}, Resources: []string{"*"}}}}
		if got := Compile([]*Document{d, denyAll}, vars).Decide(action, resource, req); got != ExplicitDeny {
			t.Fatalf("with a Deny-all document Decide = %v", got)
		}
	})
}
