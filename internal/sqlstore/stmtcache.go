package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds a StmtCache. The registry's statements are a
// few hundred fixed texts; listings build theirs from the filters given,
// and past the bound those are prepared each time, as before.
const maxCachedStatements = 512

// StmtCache keeps one prepared statement per SQL text of a pool. SQLite
// parses and plans a statement each time it is prepared, and database/sql
// prepares one for every query run in a transaction: that was a seventh of
// the CPU of provisioning a device just in time.
//
// A statement is prepared on the pool, not in the transaction that first
// runs it (a statement prepared in a transaction is closed with it). The
// write pool has one connection, which that transaction holds, so the first
// run prepares in the background and runs without the cache; the runs after
// it find the statement ready, and database/sql reuses it on each
// connection it was prepared on.
type StmtCache struct {
	db *sql.DB

	mu       sync.Mutex
	stmts    map[string]*sql.Stmt
	pending  map[string]bool
	closed   bool
	inFlight sync.WaitGroup
}

func NewStmtCache(db *sql.DB) *StmtCache {
	return &StmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// in returns query prepared for tx, or for the pool when tx is nil; nil
// when it is not (yet) cached.
func (c *StmtCache) in(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	s, ok := c.stmts[query]
	if !ok && !c.closed && !c.pending[query] && len(c.stmts)+len(c.pending) < maxCachedStatements {
		c.pending[query] = true
		c.inFlight.Add(1)
		go c.prepare(query)
	}
	c.mu.Unlock()
	switch {
	case !ok:
		return nil
	case tx == nil:
		return s
	}
	return tx.StmtContext(ctx, s)
}

// prepare prepares query on the pool and caches it.
func (c *StmtCache) prepare(query string) {
	defer c.inFlight.Done()
	s, err := c.db.PrepareContext(context.Background(), query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	if err != nil {
		return // the query itself reports the error when it runs
	}
	if c.closed {
		_ = s.Close()
		return
	}
	c.stmts[query] = s
}

// close closes the cached statements, once those being prepared are.
// Stats reports how many statements c holds prepared, and how many it is
// preparing.
func (c *StmtCache) Stats() (prepared, preparing int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.stmts), len(c.pending)
}

// Close closes the prepared statements; the cache prepares none after.
func (c *StmtCache) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.inFlight.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stmts {
		_ = s.Close()
	}
	clear(c.stmts)
}

// The statements of a transaction, prepared once per pool.

// querier runs statements: a transaction, or a pool (NewAutocommit).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// on is what t's statements run on.
func (t *tx) on() querier {
	if t.tx == nil {
		return t.pool
	}
	return t.tx
}

func (t *tx) execContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, err := t.statementContext(ctx)
	if err != nil {
		return nil, err
	}
	if s := t.stmts.in(ctx, t.tx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.on().ExecContext(ctx, query, args...)
}

func (t *tx) queryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, err := t.statementContext(ctx)
	if err != nil {
		return nil, err
	}
	if s := t.stmts.in(ctx, t.tx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.on().QueryContext(ctx, query, args...)
}

func (t *tx) queryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if t.shared {
		// A *sql.Row cannot carry an error of ours: the next statement
		// reports a context that has ended.
		ctx = context.WithoutCancel(ctx)
	}
	if s := t.stmts.in(ctx, t.tx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.on().QueryRowContext(ctx, query, args...)
}
