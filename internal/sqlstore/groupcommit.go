package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

// maxGroupCommit bounds how many updates share one commit: past it, the
// updates still waiting start the next one.
const maxGroupCommit = 128

// GroupCommitter runs write transactions for a store. The updates that
// arrive while one runs are carried out in the same database transaction,
// each inside a savepoint of its own, and the last of them commits for all
// (group commit): one BEGIN, one COMMIT and one flush of the log for many
// updates, and none of them conflicts with another. Every caller still sees
// its own transaction: its fn's writes are undone alone when fn fails, and
// Update returns only once they are committed.
//
// Updates run one at a time, in arrival order, on their callers' goroutines.
// A store that wants several at once (PostgreSQL) runs several committers.
type GroupCommitter struct {
	begin func(context.Context) (*sql.Tx, error)
	stmts *StmtCache
	dooms func(error) bool

	commits atomic.Int64 // transactions committed
	updates atomic.Int64 // updates run (their fn called), committed or not
	busy    atomic.Int64 // nanoseconds mu was held
	waiting atomic.Int32 // callers waiting for mu
	mu      sync.Mutex   // held while a caller's fn runs
	open    *batch       // the transaction being filled; nil if none (guarded by mu)
}

// NewGroupCommitter returns a committer that begins its transactions with
// begin and prepares statements with stmts (nil prepares none). dooms, if
// not nil, reports whether an error of an update's fn has doomed the whole
// transaction, so that no savepoint can save the other updates in it
// (PostgreSQL's serialization failures): the transaction then rolls back,
// and every update in it gets an error that wraps err, for its caller to
// run it again.
func NewGroupCommitter(begin func(context.Context) (*sql.Tx, error), stmts *StmtCache, dooms func(error) bool) *GroupCommitter {
	return &GroupCommitter{begin: begin, stmts: stmts, dooms: dooms}
}

// GroupCommitStats counts what a committer did: the updates it ran, the
// transactions it committed (Updates/Commits is how many share one), and
// how long it was held in all. Updates run one at a time, so Busy growing
// as fast as the clock means the committer limits the write rate.
type GroupCommitStats struct {
	Updates, Commits int64
	Busy             time.Duration
}

// Stats reads the counters.
func (c *GroupCommitter) Stats() GroupCommitStats {
	return GroupCommitStats{Updates: c.updates.Load(), Commits: c.commits.Load(), Busy: time.Duration(c.busy.Load())}
}

// Waiting is how many updates wait for the one running.
func (c *GroupCommitter) Waiting() int { return int(c.waiting.Load()) }

// batch is one transaction shared by several updates.
type batch struct {
	tx      *sql.Tx
	members int   // updates whose writes it carries
	broken  error // why it must roll back: a savepoint could not be undone, or the transaction is doomed
	done    chan struct{}
	err     error // the commit's outcome, for its members; set before done closes
}

// Update runs fn in a savepoint of the open transaction (beginning one if
// none is open), and returns once the transaction carrying fn's writes has
// committed. It returns fn's error as is; when fn fails, panics or calls
// runtime.Goexit, its writes are undone (and the panic goes on).
func (c *GroupCommitter) Update(ctx context.Context, fn func(registry.Tx) error) error {
	b, err := c.run(ctx, fn)
	if err != nil {
		return err
	}
	// Not cut short by ctx: the writes commit, or not, with the batch, and
	// the caller must learn which.
	<-b.done
	return b.err
}

// run carries out fn in the open batch. It returns fn's error (its writes
// undone) or the batch its writes joined. Whoever finds nobody waiting
// behind it ends the batch, whatever fn did, panics and runtime.Goexit
// included: the callers already in it wait for that.
func (c *GroupCommitter) run(ctx context.Context, fn func(registry.Tx) error) (_ *batch, err error) {
	c.waiting.Add(1)
	c.mu.Lock()
	c.waiting.Add(-1)
	start := time.Now()
	c.updates.Add(1)
	b := c.open
	if b == nil {
		// The batch outlives the caller that began it: its context must not
		// roll it back.
		tx, err := c.begin(context.WithoutCancel(ctx))
		if err != nil {
			c.busy.Add(int64(time.Since(start)))
			c.mu.Unlock()
			return nil, fmt.Errorf("begin update: %w", err)
		}
		b = &batch{tx: tx, done: make(chan struct{})}
		c.open = b
	}
	joined := false
	defer func() {
		if !joined && b.broken == nil {
			if _, rerr := b.tx.Exec("ROLLBACK TO update_fn"); rerr != nil {
				b.broken = fmt.Errorf("undo a failed update: %w", rerr)
			} else if _, rerr := b.tx.Exec("RELEASE update_fn"); rerr != nil {
				b.broken = fmt.Errorf("undo a failed update: %w", rerr)
			}
		}
		if b.broken != nil || b.members >= maxGroupCommit || c.waiting.Load() == 0 {
			c.end(b)
		}
		c.busy.Add(int64(time.Since(start)))
		c.mu.Unlock()
	}()
	if _, err := b.tx.Exec("SAVEPOINT update_fn"); err != nil {
		b.broken = fmt.Errorf("begin update: %w", err)
		return nil, b.broken
	}
	if err := fn(NewTx(b.tx, c.stmts, true)); err != nil {
		if c.dooms != nil && c.dooms(err) {
			b.broken = err
		}
		return nil, err
	}
	if _, err := b.tx.Exec("RELEASE update_fn"); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	joined = true
	b.members++
	return b, nil
}

// end commits b (or rolls it back, when it carries nothing or is broken) and
// tells its members. The caller holds c.mu.
func (c *GroupCommitter) end(b *batch) {
	c.open = nil
	switch {
	case b.broken != nil:
		b.err = errors.Join(fmt.Errorf("update rolled back with the others in its transaction: %w", b.broken), b.tx.Rollback())
	case b.members == 0:
		b.err = b.tx.Rollback()
	default:
		if err := b.tx.Commit(); err != nil {
			b.err = fmt.Errorf("commit: %w", err)
		}
		c.commits.Add(1)
	}
	close(b.done)
}
