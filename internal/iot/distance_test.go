package iot

import (
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"log-format", "log-format", 0},
		{"log-formt", "log-format", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
		{strings.Repeat("a", 300), "a", 1 << 20},
	} {
		if got := EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%.10q, %.10q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
