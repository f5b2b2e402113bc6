package policy

import (
	"regexp"
	"strings"
	"testing"
)

// matchCases are glob cases; FuzzMatch is seeded from them.
var matchCases = []struct {
	name    string
	pattern string
	s       string
	fold    bool
	want    bool
}{
	{"exact", "iot:Connect", "iot:Connect", false, true},
	{"exact mismatch", "iot:Connect", "iot:Connec", false, false},
	{"exact longer", "iot:Connect", "iot:Connects", false, false},
	{"empty pattern empty string", "", "", false, true},
	{"empty pattern", "", "a", false, false},
	{"star alone", "*", "", false, true},
	{"star crosses slash", "topic/*", "topic/a/b/c", false, true},
	{"star matches empty", "topic/*", "topic/", false, true},
	{"prefix needs slash", "topic/a/*", "topic/a", false, false},
	{"suffix", "*/status", "a/b/status", false, true},
	{"suffix mismatch", "*/status", "a/b/statu", false, false},
	{"suffix shorter", "*/status", "status", false, false},
	{"question one char", "a?c", "abc", false, true},
	{"question not zero", "a?c", "ac", false, false},
	{"question not two", "a?c", "abbc", false, false},
	{"question one rune", "a?c", "aéc", false, true},
	{"question one rune of three bytes", "a?c", "a€c", false, true},
	{"star then two questions need two runes", "*??", "€", false, false},
	{"star then two questions", "*??", "€x", false, true},
	{"plus literal", "topicfilter/a/+/b", "topicfilter/a/+/b", false, true},
	{"plus not wildcard", "topicfilter/a/+/b", "topicfilter/a/x/b", false, false},
	{"hash literal", "topicfilter/a/#", "topicfilter/a/#", false, true},
	{"hash not wildcard", "topicfilter/a/#", "topicfilter/a/b", false, false},
	{"star covers hash", "topicfilter/a/*", "topicfilter/a/#", false, true},
	{"case-sensitive", "topic/A", "topic/a", false, false},
	{"fold", "iot:Publish", "IOT:PUBLISH", true, true},
	{"fold wildcard", "iot:*Shadow", "IoT:GetThingSHADOW", true, true},
	{"fold mismatch", "iot:Publish", "iot:Publis", true, false},
	{"fold non-ascii stays exact", "iot:É", "iot:é", true, false},
	{"backtracking", "a*b*c", "aXbYbZc", false, true},
	{"backtracking fails", "a*b*c", "aXbYbZ", false, false},
	{"many stars", "**a**", "xxaxx", false, true},
	{"star question star", "*?*", "", false, false},
	{"middle literal", "*abc*", "xxabxabcxx", false, true},
	{"repeated prefix", "*aab", "aaab", false, true},
	{"general shape", "a*b?c", "a123bxc", false, true},
	{"general shape mismatch", "a*b?c", "a123bc", false, false},
}

func TestMatch(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			g := compileGlob(tc.pattern, tc.fold)
			if got := g.match(tc.s); got != tc.want {
				t.Errorf("match(%q, %q, fold=%v) = %v, want %v", tc.pattern, tc.s, tc.fold, got, tc.want)
			}
		})
	}
}

// globRegexp is the reference semantics of a glob as a regular expression.
func globRegexp(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s)`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			q := regexp.QuoteMeta(string(r))
			if fold && r < 0x80 && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				q = "[" + strings.ToLower(q) + strings.ToUpper(q) + "]"
			}
			b.WriteString(q)
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func FuzzMatch(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.pattern, tc.s, tc.fold)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, fold bool) {
		if !utf8Valid(pattern) || !utf8Valid(s) {
			t.Skip("the regexp oracle needs valid UTF-8")
		}
		g := compileGlob(pattern, fold)
		got := g.match(s)
		want := globRegexp(pattern, fold).MatchString(s)
		if got != want {
			t.Errorf("match(%q, %q, fold=%v) = %v, regexp says %v", pattern, s, fold, got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
