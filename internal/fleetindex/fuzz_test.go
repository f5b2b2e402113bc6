package fleetindex

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/iot"
)

// FuzzParse checks that Parse never panics and fails only with
// InvalidQueryException, that a parsed query's String() parses back to the
// same String() and matches the same fixture things, and that the helpers
// do not panic.
func FuzzParse(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.query)
	}
	for _, q := range goldenQueries(f) {
		f.Add(q)
	}
	things := fleet(f)
	f.Fuzz(func(t *testing.T, query string) {
		q, err := Parse(query)
		if err != nil {
			var e *iot.Error
			if !errors.As(err, &e) || e.Code != iot.InvalidQuery || e.Message == "" {
				t.Fatalf("Parse(%q) error %v is not an InvalidQueryException", query, err)
			}
			if q != nil {
				t.Fatalf("Parse(%q) returned a query with its error", query)
			}
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			if strings.Contains(err.Error(), "leading wildcard may have at most") {
				return // spelling out a field group lengthens the query
			}
			t.Fatalf("Parse(String()) = %v\nquery: %q\ncanonical: %q", err, query, canon)
		}
		if got := q2.String(); got != canon {
			t.Fatalf("canonical form is not stable\nquery: %q\nfirst: %q\nthen:  %q", query, canon, got)
		}
		if a, b := matching(q, things), matching(q2, things); !slices.Equal(a, b) {
			t.Fatalf("%q matches %v, its canonical form %q matches %v", query, a, canon, b)
		}
		for _, g := range groups {
			_ = q.Match(g)
		}
		_, _ = q.ThingNames()
		_, _ = q.GroupNames()
		_ = q.Fields()
		_ = q.Sources()
		_ = q.ShadowNames()
	})
}
