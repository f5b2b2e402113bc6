// Package loglimit rate-limits log lines that others cause (a device
// retrying a forbidden publish, an unauthenticated client flooding the API),
// so that they cannot fill the disk, and says how many lines it kept back.
package loglimit

import (
	"sync"
	"time"
)

// Limiter is a token bucket of log lines: Burst lines at once, then Rate a
// second. Its zero value lets nothing through; set Rate and Burst.
type Limiter struct {
	Rate  float64 // lines per second, after the burst
	Burst float64 // lines at once

	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int64
}

// Allow takes a line's token at now, and reports whether the line may be
// written and, if so, how many lines were suppressed since the last one
// written. A clock that goes back refills nothing.
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = l.Burst
	} else if now.After(l.last) {
		l.tokens = min(l.Burst, l.tokens+now.Sub(l.last).Seconds()*l.Rate)
	}
	if now.After(l.last) {
		l.last = now
	}
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
