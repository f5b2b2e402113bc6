package broker

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// ReloadTimeout bounds how long re-reading one session's policies after a
// registry change may take; a session whose reload fails is disconnected.
const ReloadTimeout = 10 * time.Second

// DefaultApplyWait is the zero value of Gatekeeper.ApplyWait.
const DefaultApplyWait = 100 * time.Millisecond

// changeQueue holds the registry changes that live sessions have yet to
// see. It is filled on the goroutine that committed them (an API request)
// and emptied by Gatekeeper.Run, so that a change that concerns thousands of
// connected devices does not hold the API call that made it. The same
// change twice is kept once, so the queue is bounded by the resources that
// exist.
type changeQueue struct {
	seen atomic.Uint64 // changes ever queued; moved on under mu

	mu       sync.Mutex
	pending  map[registry.Event]struct{}
	wake     chan struct{} // capacity 1: something is pending
	applied  uint64        // the live sessions have seen changes up to this count
	progress chan struct{} // closed, and replaced, whenever applied moves on
	// recent is a ring of what the latest changes named, change number
	// seen-1 at recent[(seen-1)%len]: enough for a connect to tell whether
	// a change made while it read its context concerns it (concerns).
	recent []recentChange
}

// recentChanges is how many changes the queue remembers what they named.
// A connect that read its context before more changes than this were made
// reads it again, whatever they named.
const recentChanges = 4096

// recentChange is what one change named: a subject, or nothing a session is
// indexed by (named false).
type recentChange struct {
	subject subject
	named   bool
}

func (q *changeQueue) init() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.wake == nil {
		q.wake = make(chan struct{}, 1)
		q.pending = map[registry.Event]struct{}{}
		q.progress = make(chan struct{})
		q.recent = make([]recentChange, recentChanges)
	}
}

// count is the number of changes ever queued: a reader that sees it move
// knows a change committed meanwhile.
func (q *changeQueue) count() uint64 { return q.seen.Load() }

// put queues events, with what each names in acct, and returns the count
// that says they have been applied.
func (q *changeQueue) put(events []registry.Event, acct iot.Account) (ticket uint64) {
	q.init()
	q.mu.Lock()
	n := q.seen.Load()
	for i, e := range events {
		q.pending[e] = struct{}{}
		k, named := eventSubject(e, acct)
		q.recent[(n+uint64(i))%recentChanges] = recentChange{k, named}
	}
	ticket = q.seen.Add(uint64(len(events)))
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return ticket
}

// concerns reports whether a change queued after the count since names one
// of subjects (sorted as compareSubjects sorts), or may have: when more
// changes were made since than the queue remembers.
func (q *changeQueue) concerns(since uint64, subjects []subject) bool {
	if q.seen.Load() == since {
		return false // nothing changed: the usual connect takes no lock
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.seen.Load()
	if now-since > recentChanges {
		return true
	}
	for c := since; c < now; c++ {
		r := q.recent[c%recentChanges]
		if !r.named {
			continue
		}
		if _, found := slices.BinarySearchFunc(subjects, r.subject, compareSubjects); found {
			return true
		}
	}
	return false
}

// take returns what is pending, with the count applying it reaches, and
// empties the queue.
func (q *changeQueue) take() ([]registry.Event, uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]registry.Event, 0, len(q.pending))
	for e := range q.pending {
		out = append(out, e)
	}
	clear(q.pending)
	return out, q.seen.Load()
}

// done records that the changes up to count have been applied.
func (q *changeQueue) done(count uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if count > q.applied {
		q.applied = count
		close(q.progress)
		q.progress = make(chan struct{})
	}
}

// wait waits until the changes up to ticket have been applied, or timeout
// has passed; it reports which.
func (q *changeQueue) wait(ticket uint64, timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		q.mu.Lock()
		applied, progress := q.applied, q.progress
		q.mu.Unlock()
		if applied >= ticket {
			return true
		}
		select {
		case <-progress:
		case <-timer.C:
			return false
		}
	}
}

// OnRegistryChange takes the events of a committed registry change for the
// live sessions to re-evaluate, which Run does. It waits for them for
// ApplyWait at most: a change that concerns a few devices has taken effect
// on their connections when the API call that made it returns, and one that
// concerns thousands (a policy attached to a large group) does not hold
// that call while they are re-evaluated.
func (g *Gatekeeper) OnRegistryChange(events []registry.Event) {
	if len(events) == 0 {
		return
	}
	wait := g.ApplyWait
	if wait == 0 {
		wait = DefaultApplyWait
	}
	ticket := g.changes.put(events, g.Account)
	if wait > 0 {
		g.changes.wait(ticket, wait)
	}
}

// Run re-evaluates the live sessions after each registry change until ctx
// ends: a certificate no longer ACTIVE is disconnected; a session whose
// policies, attachments, things or groups changed is recompiled, and
// disconnected if they no longer allow iot:Connect. Only the sessions a
// change can concern are touched, several at once.
func (g *Gatekeeper) Run(ctx context.Context) error {
	g.changes.init()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.changes.wake:
		}
		events, count := g.changes.take()
		g.reloadAffected(ctx, events)
		g.changes.done(count)
	}
}

// reloadAffected reloads, with at most GOMAXPROCS at once, every live
// session that one of events concerns.
func (g *Gatekeeper) reloadAffected(ctx context.Context, events []registry.Event) {
	sessions := g.affected(events)
	if len(sessions) == 0 {
		return
	}
	work := make(chan *session)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(sessions)) {
		wg.Go(func() {
			for s := range work {
				rctx, cancel := context.WithTimeout(ctx, ReloadTimeout)
				s.reload(rctx)
				cancel()
			}
		})
	}
	for _, s := range sessions {
		select {
		case work <- s:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
}

// affected returns the live sessions that one of events may concern.
func (g *Gatekeeper) affected(events []registry.Event) []*session {
	subjects := make([]subject, 0, len(events))
	for _, e := range events {
		if k, ok := eventSubject(e, g.Account); ok {
			subjects = append(subjects, k)
		}
	}
	return g.live.sessionsOf(subjects)
}
