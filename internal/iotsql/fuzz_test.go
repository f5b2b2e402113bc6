package iotsql

import (
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives Parse(String()) unchanged. Seeds: the parse, expression and
// golden tables.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.sql, c.version == Version20151008)
	}
	for _, c := range exprCases {
		f.Add("SELECT VALUE "+c.expr+" FROM 't'", c.version == Version20151008)
	}
	for _, c := range readGoldenCases(f) {
		if c.kind == "sql" {
			f.Add(c.src, false)
		}
	}
	f.Fuzz(func(t *testing.T, sql string, v1 bool) {
		version := ""
		if v1 {
			version = Version20151008
		}
		st, err := Parse(sql, version)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) error %v is not a *ParseError", sql, err)
			}
			return
		}
		s1 := st.String()
		st2, err := Parse(s1, version)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", sql, s1, err)
		}
		if s2 := st2.String(); s2 != s1 {
			t.Fatalf("round trip of %q: %q then %q", sql, s1, s2)
		}
		_ = st.Matches("a/b")
	})
}

// FuzzEvaluate checks that evaluating any accepted statement on any
// payload never panics, and that a JSON-object result is valid JSON.
func FuzzEvaluate(f *testing.F) {
	for _, c := range exprCases {
		f.Add("SELECT VALUE "+c.expr+" FROM 't'", []byte(c.payload), "a/b")
	}
	for _, c := range readGoldenCases(f) {
		if c.kind == "sql" {
			f.Add(c.src, []byte(c.sec["payload"]), goldenInput(c).Topic)
		}
	}
	f.Fuzz(func(t *testing.T, sql string, payload []byte, topic string) {
		st, err := Parse(sql, "")
		if err != nil {
			return
		}
		in := exprInput(string(payload))
		in.Topic = topic
		out, matched, err := st.Evaluate(in)
		if err != nil || !matched || st.starOnly || len(out) == 0 {
			return
		}
		if _, err := decodeJSON(out, false); err != nil {
			t.Fatalf("Evaluate(%q) on %q: output %q is not JSON", sql, payload, out)
		}
		tp, err := ParseTemplate("x/${" + sql + "}")
		if err == nil {
			_, _ = tp.Expand(in)
		}
	})
}
