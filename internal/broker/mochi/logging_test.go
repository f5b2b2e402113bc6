package mochi

import (
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	now := time.Unix(1_000_000, 0)
	for i := range deviceLogBurst {
		if ok, _ := l.allow(now); !ok {
			t.Fatalf("line %d of the burst suppressed", i)
		}
	}
	for range 5 {
		if ok, _ := l.allow(now); ok {
			t.Fatal("line beyond the burst let through")
		}
	}
	// One line's worth of time later: one line, reporting the suppressed.
	now = now.Add(time.Second / deviceLogRate)
	if ok, suppressed := l.allow(now); !ok || suppressed != 5 {
		t.Errorf("allow = %v, %d suppressed; want true, 5", ok, suppressed)
	}
	if ok, _ := l.allow(now); ok {
		t.Error("second line in the same instant let through")
	}
}
