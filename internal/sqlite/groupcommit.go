package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlstore"
)

// maxGroupCommit bounds how many updates share one commit: past it, the
// updates still waiting start the next one.
const maxGroupCommit = 128

// committer runs the write transactions of Update. With synchronous=FULL a
// commit returns only once the write-ahead log is on disk, which costs an
// fsync; so the updates that arrive while one runs are carried out in the
// same SQLite transaction, each inside a savepoint of its own, and the last
// of them commits for all (group commit). Every caller still sees its own
// transaction: its fn's writes are undone alone when fn fails, and Update
// returns only once they are durable.
//
// Updates run one at a time, in arrival order, on their callers' goroutines.
type committer struct {
	db    *sql.DB // the single write connection
	stmts *sqlstore.StmtCache

	commits atomic.Int64 // transactions committed, for the tests and metrics
	updates atomic.Int64 // updates run (their fn called), committed or not
	busy    atomic.Int64 // nanoseconds mu was held: the single writer's busy time
	waiting atomic.Int32 // callers waiting for mu
	mu      sync.Mutex   // held while a caller's fn runs
	open    *batch       // the transaction being filled; nil if none (guarded by mu)
}

// batch is one SQLite transaction shared by several updates.
type batch struct {
	tx      *sql.Tx
	members int   // updates whose writes it carries
	broken  error // why it must roll back: a savepoint could not be undone
	done    chan struct{}
	err     error // the commit's outcome, for its members; set before done closes
}

// update runs fn in a savepoint of the open batch (beginning one if none is
// open), and returns once the batch carrying fn's writes has committed.
func (c *committer) update(ctx context.Context, fn func(registry.Tx) error) error {
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
func (c *committer) run(ctx context.Context, fn func(registry.Tx) error) (_ *batch, err error) {
	c.waiting.Add(1)
	c.mu.Lock()
	c.waiting.Add(-1)
	start := time.Now()
	c.updates.Add(1)
	b := c.open
	if b == nil {
		// The batch outlives the caller that began it: its context must not
		// roll it back.
		tx, err := c.db.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			c.busy.Add(int64(time.Since(start)))
			c.mu.Unlock()
			return nil, fmt.Errorf("sqlite: begin update: %w", err)
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
		b.broken = fmt.Errorf("sqlite: begin update: %w", err)
		return nil, b.broken
	}
	if err := fn(sqlstore.NewTx(b.tx, c.stmts, true)); err != nil {
		return nil, err
	}
	if _, err := b.tx.Exec("RELEASE update_fn"); err != nil {
		return nil, fmt.Errorf("sqlite: update: %w", err)
	}
	joined = true
	b.members++
	return b, nil
}

// end commits b (or rolls it back, when it carries nothing or is broken) and
// tells its members. The caller holds c.mu.
func (c *committer) end(b *batch) {
	c.open = nil
	switch {
	case b.broken != nil:
		b.err = errors.Join(fmt.Errorf("sqlite: update rolled back: %w", b.broken), b.tx.Rollback())
	case b.members == 0:
		b.err = b.tx.Rollback()
	default:
		if err := b.tx.Commit(); err != nil {
			b.err = fmt.Errorf("sqlite: commit: %w", err)
		}
		c.commits.Add(1)
	}
	close(b.done)
}
