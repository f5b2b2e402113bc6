package template

import (
	"fmt"
	"strings"

	"github.com/iotcore/iotcore/internal/iot"
)

// didYouMean returns ` (did you mean "X"?)` naming the candidate closest to
// s when one is close enough to be a likely typo (same letters in another
// case, or at most two edits for names of five or more characters, one
// for shorter ones), and "" otherwise.
func didYouMean(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if c == s {
			continue
		}
		d := iot.EditDistance(strings.ToLower(s), strings.ToLower(c)) // 0: differs only in case
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(s) < 5 {
		limit = 1
	}
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
