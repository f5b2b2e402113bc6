package iotsql

import (
	"errors"
	"strings"
	"testing"
)

// parseCases are statements Parse accepts; each must survive
// Parse(String()) unchanged.
var parseCases = []struct{ name, sql, version string }{
	{"star", "SELECT * FROM 'a/b'", ""},
	{"fields", "select a, b.c AS d, e[0] FROM 'a/+/c' where x > 1", ""},
	{"value", "SELECT VALUE x FROM 'a'", ""},
	{"field named value", "SELECT value FROM 'a'", ""},
	{"field named value with alias", "SELECT value AS v, w FROM 'a'", ""},
	{"basic ingest", "SELECT * FROM '$aws/rules/myRule/#'", ""},
	{"events", "SELECT * FROM '$aws/events/certificates/registered/abc'", ""},
	{"multi-level", "SELECT * FROM '#'", ""},
	{"double-quoted topic", `SELECT * FROM "a/b"`, ""},
	{"case", "SELECT CASE a WHEN 1 THEN 'x' ELSE 'y' END AS c FROM 'a'", ""},
	{"literals", "SELECT {'a': [1, 2.5, 'x', true, null], b: {}} AS o FROM 'a'", ""},
	{"cast", "SELECT cast(a AS Int) FROM 'a'", Version20151008},
	{"nested query", "SELECT (SELECT VALUE n FROM e WHERE v > 1) AS s FROM 'a'", ""},
	{"in", "SELECT * FROM 'a' WHERE a IN [1, 2] AND b NOT IN (3, 4)", ""},
	{"is", "SELECT * FROM 'a' WHERE a IS NOT NULL OR b IS UNDEFINED", ""},
	{"unary", "SELECT -a, - -1, NOT NOT true FROM 'a'", ""},
	{"strings", `SELECT 'it''s', "dq\"", 'back\\slash' FROM 'a'`, ""},
	{"encode star", "SELECT encode(*, 'base64') AS data FROM 'a'", ""},
	{"beta", "SELECT a FROM 'a'", VersionBeta},
	{"newlines", "SELECT a\nFROM 'a'\nWHERE b = 1", ""},
}

func TestParseRoundTrip(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Parse(c.sql, c.version)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.sql, err)
			}
			s1 := st.String()
			st2, err := Parse(s1, c.version)
			if err != nil {
				t.Fatalf("Parse(String()) of %q: %v", s1, err)
			}
			if s2 := st2.String(); s2 != s1 {
				t.Errorf("round trip: got %q, want %q", s2, s1)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, sql, version string
		want               string // substring of Error()
		line, col          int
	}{
		{"misspelled FROM", "SELECT * FORM 'a'", "", "Line 1:10 mismatched input 'FORM' expecting FROM", 1, 10},
		{"no FROM", "SELECT a", "", "Expected a FROM clause", 1, 9},
		{"empty", "", "", "mismatched input '<EOF>' expecting SELECT", 1, 1},
		{"unquoted topic", "SELECT * FROM a/b", "", "expecting a topic filter in single quotes", 1, 15},
		{"bad #", "SELECT * FROM 'a/#/b'", "", "'#' must be the whole last level", 1, 15},
		{"bad +", "SELECT * FROM 'a/b+'", "", "'+' must be a whole level", 1, 15},
		{"empty topic", "SELECT * FROM ''", "", "topic filter is empty", 1, 15},
		{"unknown function", "SELECT foo(1) FROM 'a'", "", "unknown function 'foo'", 1, 8},
		{"external function", "SELECT get_dynamodb('t','k',1,'r') FROM 'a'", "", "calls another AWS service", 1, 8},
		{"arity", "SELECT upper() FROM 'a'", "", "function 'upper' takes 1 argument, got 0", 1, 8},
		{"encode scheme", "SELECT encode(a, 'hex') FROM 'a'", "", "literal encoding scheme 'base64'", 1, 8},
		{"v1 function", "SELECT encode(a, 'base64') FROM 'a'", Version20151008, "needs SQL version 2016-03-23", 1, 8},
		{"v1 literal", "SELECT [1] AS a FROM 'a'", Version20151008, "array literals need SQL version 2016-03-23", 1, 8},
		{"v1 object", "SELECT {'a':1} AS a FROM 'a'", Version20151008, "object literals need", 1, 8},
		{"v1 nested", "SELECT (SELECT VALUE n FROM e) AS a FROM 'a'", Version20151008, "nested object queries need", 1, 8},
		{"v1 cast", "SELECT cast(a AS Boolean) FROM 'a'", Version20151008, "cast to Boolean needs", 1, 18},
		{"bad cast type", "SELECT cast(a AS Blob) FROM 'a'", "", "expecting a cast type", 1, 18},
		{"trailing", "SELECT a FROM 'a' LIMIT 1", "", "mismatched input 'LIMIT' expecting WHERE", 1, 19},
		{"star in expr", "SELECT * + 1 FROM 'a'", "", "mismatched input '+'", 1, 10},
		{"star arg", "SELECT upper(*) FROM 'a'", "", "* is allowed only", 1, 14},
		{"pipes", "SELECT a || b FROM 'a'", "", "'||' is not an AWS IoT SQL operator", 1, 10},
		{"unterminated", "SELECT 'abc FROM 'a'", "", "mismatched input 'a'", 1, 19},
		{"unterminated at end", "SELECT a FROM 'a", "", "unterminated string literal", 1, 15},
		{"bad char", "SELECT a; FROM 'a'", "", `unexpected character ";"`, 1, 9},
		{"second line", "SELECT a\nFROM 'a'\nWHERE AND", "", "Line 3:7 mismatched input 'AND'", 3, 7},
		{"value star", "SELECT VALUE * FROM 'a'", "", "SELECT VALUE takes one expression, not *", 1, 14},
		{"value two", "SELECT VALUE a, b FROM 'a'", "", "SELECT VALUE takes one expression", 1, 17},
		{"case without when", "SELECT CASE a END FROM 'a'", "", "expecting WHEN", 1, 15},
		{"reserved field", "SELECT a FROM 'a' WHERE from = 1", "", "expecting an expression", 1, 25},
		{"deep nesting", "SELECT " + strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000) + " FROM 'a'", "", "nested too deeply", 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.sql, c.version)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", c.sql, err)
			}
			if !strings.Contains(pe.Error(), c.want) {
				t.Errorf("error %q does not contain %q", pe.Error(), c.want)
			}
			if c.col != 0 && (pe.Line != c.line || pe.Column != c.col) {
				t.Errorf("position %d:%d, want %d:%d", pe.Line, pe.Column, c.line, c.col)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	for _, v := range []string{"", Version20151008, Version20160323, VersionBeta} {
		st, err := Parse("SELECT a FROM 'a'", v)
		if err != nil {
			t.Fatalf("Parse version %q: %v", v, err)
		}
		want := v
		if v == "" {
			want = Version20160323
		}
		if st.Version() != want {
			t.Errorf("Version() = %q, want %q", st.Version(), want)
		}
	}
	_, err := Parse("SELECT a FROM 'a'", "2020-01-01")
	var pe *ParseError
	if err == nil || errors.As(err, &pe) {
		t.Fatalf("unknown version: err %v, want a plain error", err)
	}
	for _, v := range []string{Version20151008, Version20160323, VersionBeta} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name %s", err, v)
		}
	}
}

func TestTopic(t *testing.T) {
	st, err := Parse("SELECT * FROM '$aws/events/certificates/registered/abc'", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Topic(), "$aws/events/certificates/registered/abc"; got != want {
		t.Errorf("Topic() = %q, want %q", got, want)
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		filter, topic string
		want          bool
	}{
		{"topic/subtopic", "topic/subtopic", true},
		{"topic/subtopic", "topic/subtopic-2", false},
		{"topic/#", "topic/subtopic", true},
		{"topic/#", "topic/subtopic-3/details", true},
		{"topic/#", "topic", true},
		{"topic/#", "topic-2/subtopic-x", false},
		{"topic/+", "topic/subtopic-2", true},
		{"topic/+", "topic/subtopic-3/details", false},
		{"topic/+", "topic", false},
		{"topic/+", "topic/", true},
		{"+/+", "a/b", true},
		{"+", "/a", false},
		{"+/a", "/a", true},
		{"#", "a/b/c", true},
		{"#", "$aws/things/x", false},
		{"+/things/x", "$aws/things/x", false},
		{"$aws/#", "$aws/things/x", true},
		{"$aws/+/x", "$aws/things/x", true},
		{"$aws/rules/myRule/#", "$aws/rules/myRule/a/b", true},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"a//b", "a//b", true},
		{"a", "", false},
	} {
		st, err := Parse("SELECT * FROM '"+c.filter+"'", "")
		if err != nil {
			t.Fatalf("Parse %q: %v", c.filter, err)
		}
		if got := st.Matches(c.topic); got != c.want {
			t.Errorf("filter %q Matches(%q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"a/${topic(}", "Line 1:11 mismatched input '}' expecting an expression"},
		{"a/${topic()", "missing '}'"},
		{"${nosuch()}", "unknown function 'nosuch'"},
		{"${a b}", "mismatched input 'b' expecting '}'"},
	} {
		_, err := ParseTemplate(c.src)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseTemplate(%q) = %v, want a *ParseError containing %q", c.src, err, c.want)
		}
	}
}

func TestTemplateLiteral(t *testing.T) {
	for _, s := range []string{"", "plain/topic", "no $ {template} here", "${'}'}", "a${{'k': 1}}b"} {
		tp, err := ParseTemplate(s)
		if err != nil {
			t.Fatalf("ParseTemplate(%q): %v", s, err)
		}
		got, err := tp.Expand(Input{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"${'}'}": "}", "a${{'k': 1}}b": `a{"k":1}b`}[s]
		if want == "" {
			want = s
		}
		if got != want {
			t.Errorf("Expand(%q) = %q, want %q", s, got, want)
		}
	}
}
