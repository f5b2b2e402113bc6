package loglimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := &Limiter{Rate: 20, Burst: 100}
	now := time.Unix(1_000_000, 0)
	for i := range 100 {
		if ok, _ := l.Allow(now); !ok {
			t.Fatalf("line %d of the burst suppressed", i)
		}
	}
	for range 5 {
		if ok, _ := l.Allow(now); ok {
			t.Fatal("line beyond the burst let through")
		}
	}
	// One line's worth of time later: one line, reporting the suppressed.
	now = now.Add(time.Second / 20)
	if ok, suppressed := l.Allow(now); !ok || suppressed != 5 {
		t.Errorf("Allow = %v, %d suppressed; want true, 5", ok, suppressed)
	}
	if ok, _ := l.Allow(now); ok {
		t.Error("second line in the same instant let through")
	}
	// A clock that goes back refills nothing.
	if ok, _ := l.Allow(now.Add(-time.Hour)); ok {
		t.Error("a line let through by a clock going back")
	}
}
