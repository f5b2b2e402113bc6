package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// DefaultConcurrency is how many connections the jitp, connect and idle
// scenarios open at once when not told: enough to keep a two-core server
// busy without queueing on its accept backlog.
const DefaultConcurrency = 32

// budget hands out the operations of a run until a count is reached, a
// deadline passes or the run is interrupted. It is safe for concurrent use.
type budget struct {
	ctx      context.Context
	count    int64     // 0: no limit
	deadline time.Time // zero: none
	taken    atomic.Int64
}

// take claims one operation and returns its number, from 0, or false when
// there are no more.
func (b *budget) take() (int, bool) {
	if b.ctx.Err() != nil {
		return 0, false
	}
	if !b.deadline.IsZero() && !time.Now().Before(b.deadline) {
		return 0, false
	}
	i := b.taken.Add(1) - 1
	if b.count > 0 && i >= b.count {
		return 0, false
	}
	return int(i), true
}

// interrupted reports whether the run's context ended.
func (b *budget) interrupted() bool { return b.ctx.Err() != nil }

// runWorkers runs work(w) for w in [0, n) in n goroutines and waits for
// them all.
func runWorkers(n int, work func(w int)) {
	done := make(chan struct{}, n)
	for w := 0; w < n; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			work(w)
		}()
	}
	for range n {
		<-done
	}
}

// cpuWorkers is how many goroutines CPU-bound preparation uses.
func cpuWorkers(n int) int { return max(1, min(n, runtime.GOMAXPROCS(0))) }

// onboardingDefaults checks the device count of an onboarding scenario
// (jitp, fleet) and fills in its concurrency, at most one per device, and
// its name prefix.
func onboardingDefaults(scenario string, devices int, concurrency *int, prefix *string) error {
	if devices < 1 {
		return fmt.Errorf("%s: %d devices: want at least 1", scenario, devices)
	}
	if *concurrency <= 0 {
		*concurrency = DefaultConcurrency
	}
	*concurrency = min(*concurrency, devices)
	if *prefix == "" {
		*prefix = NewPrefix()
	}
	return nil
}
