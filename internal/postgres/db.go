package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlstore"
)

var _ registry.Store = (*DB)(nil)

// Options tune the connection pool and transactions. Zero values take the
// defaults documented on each.
type Options struct {
	// MaxConns bounds the pool; 0 means DefaultMaxConns.
	MaxConns int
	// StatementTimeout bounds every statement (PostgreSQL's
	// statement_timeout); 0 means DefaultStatementTimeout.
	StatementTimeout time.Duration
	// MaxAttempts is how many times an update runs when PostgreSQL aborts
	// it for a conflict with another (serialization failure, deadlock,
	// unique violation); 0 means DefaultMaxAttempts.
	MaxAttempts int
	// Committers is how many transactions carry this node's updates at
	// once; the updates that arrive while all are busy share one, each in
	// a savepoint (group commit: sqlstore.GroupCommitter). 0 means
	// DefaultCommitters.
	Committers int
}

// Defaults of Options.
const (
	DefaultMaxConns         = 16
	DefaultStatementTimeout = 10 * time.Second
	// DefaultMaxAttempts is high because SERIALIZABLE's conflicts are
	// often false ones: PostgreSQL tracks reads of index ranges by page,
	// so devices provisioned at once, whose names share index pages,
	// conflict although they touch different rows.
	DefaultMaxAttempts = 100
	// DefaultCommitters is one: a node's updates go through one
	// transaction at a time, shared by those that arrive together, so that
	// they never conflict with each other. Two committers made 0.6 to 0.7
	// conflicts per JITP device and four 1.9 (SERIALIZABLE tracks reads by
	// index page, and devices onboarded together share pages), and each
	// conflict runs a whole batch again (docs/benchmarks.md).
	DefaultCommitters = 1
)

// DB is a registry.Store on a PostgreSQL database.
type DB struct {
	pool       *sql.DB
	stmts      *sqlstore.StmtCache
	committers []*sqlstore.GroupCommitter
	next       atomic.Uint32 // where the search for an idle committer starts
	opts       Options
	host       string // for errors: host:port/database, no credentials

	retries, gaveUp atomic.Int64
}

// Stats counts the updates run again after a conflict, those that still
// conflicted after Options.MaxAttempts, and what the committers did.
type Stats struct {
	Retries, GaveUp int64
	sqlstore.GroupCommitStats
}

// Stats reads the counters.
func (db *DB) Stats() Stats {
	st := Stats{Retries: db.retries.Load(), GaveUp: db.gaveUp.Load()}
	for _, c := range db.committers {
		cs := c.Stats()
		st.Updates += cs.Updates
		st.Commits += cs.Commits
		st.Busy += cs.Busy
	}
	return st
}

// Open connects to the database at url (postgres://user:password@host:port/db?...),
// checks that it answers, and migrates its schema to the newest version
// (nodes that start together take turns). Close releases it.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.MaxConns == 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Committers == 0 {
		opts.Committers = DefaultCommitters
	}
	if opts.MaxConns < 1 || opts.StatementTimeout < 0 || opts.MaxAttempts < 1 || opts.Committers < 1 {
		return nil, fmt.Errorf("postgres: open: pool %d, statement timeout %v, attempts %d, committers %d: must be positive",
			opts.MaxConns, opts.StatementTimeout, opts.MaxAttempts, opts.Committers)
	}
	if opts.Committers > opts.MaxConns {
		return nil, fmt.Errorf("postgres: open: %d committers need %d connections, more than the pool's %d", opts.Committers, opts.Committers, opts.MaxConns)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("postgres: open: the database URL does not parse: want postgres://user:password@host:port/database")
	}
	cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	cfg.RuntimeParams["application_name"] = "iotcore"
	cfg.DialFunc = dial // dial.go: a connection that hangs fails in seconds
	db := &DB{opts: opts, host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database}
	db.pool = stdlib.OpenDB(*cfg)
	db.pool.SetMaxOpenConns(opts.MaxConns)
	db.pool.SetMaxIdleConns(opts.MaxConns)
	db.pool.SetConnMaxIdleTime(5 * time.Minute)
	db.pool.SetConnMaxLifetime(time.Hour)
	if err := db.Ping(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	if err := sqlstore.Migrate(ctx, db.pool, sqlstore.Postgres); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db.host, err)
	}
	db.stmts = sqlstore.NewStmtCache(db.pool)
	begin := func(ctx context.Context) (*sql.Tx, error) {
		tx, err := db.pool.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
		if err != nil {
			return nil, db.unavailable("begin", err)
		}
		return tx, nil
	}
	for range opts.Committers {
		db.committers = append(db.committers, sqlstore.NewGroupCommitter(begin, db.stmts, dooms))
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.Close()
	}
	if err := db.pool.Close(); err != nil {
		return fmt.Errorf("postgres: close %s: %w", db.host, err)
	}
	return nil
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.PingContext(ctx); err != nil {
		return db.unavailable("ping", err)
	}
	return nil
}

// Update runs fn in a SERIALIZABLE transaction and commits it when fn
// returns nil. Updates that arrive together share a transaction, each in a
// savepoint of its own (Options.Committers). When PostgreSQL aborts it for
// a conflict with a concurrent transaction, it runs fn again, after a short
// random wait, up to Options.MaxAttempts times: two nodes provisioning the
// same device at once make one thing, and the other sees it exists. fn's
// own errors come back as they are; a database that cannot be reached is
// iot.ServiceUnavailable.
func (db *DB) Update(ctx context.Context, fn func(registry.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.committer().Update(ctx, fn)
		if !retryable(err) {
			return db.classify(err)
		}
		if attempt == db.opts.MaxAttempts {
			db.gaveUp.Add(1)
			return err
		}
		db.retries.Add(1)
		wait := time.Duration(rand.Int64N(int64(min(time.Millisecond<<min(attempt, 10), maxRetryWait))))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

// committer picks the committer with the fewest updates waiting, trying
// them from a different one each time.
func (db *DB) committer() *sqlstore.GroupCommitter {
	n := len(db.committers)
	start := int(db.next.Add(1)) % n
	best := db.committers[start]
	for i := 1; i < n && best.Waiting() > 0; i++ {
		if c := db.committers[(start+i)%n]; c.Waiting() < best.Waiting() {
			best = c
		}
	}
	return best
}

// maxRetryWait bounds the random wait before an update runs again.
const maxRetryWait = 50 * time.Millisecond

// View runs fn in a read-only REPEATABLE READ transaction: one snapshot.
func (db *DB) View(ctx context.Context, fn func(registry.Tx) error) error {
	sqlTx, err := db.pool.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return db.unavailable("begin", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	if err := fn(sqlstore.NewTx(sqlTx, db.stmts, false)); err != nil {
		return db.classify(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return db.classify(fmt.Errorf("postgres: commit: %w", err))
	}
	return nil
}

// Read runs fn's statements on the pool, outside any transaction
// (registry.Store.Read): fn must only read.
func (db *DB) Read(ctx context.Context, fn func(registry.Tx) error) error {
	if err := fn(sqlstore.NewAutocommit(db.pool, db.stmts)); err != nil {
		return db.classify(err)
	}
	return nil
}

// dooms reports whether an error of an update's fn has doomed the
// transaction it shares with others, which then roll back and run again:
//
//   - a serialization failure, which PostgreSQL raises again at commit
//     whatever savepoint is rolled back to;
//   - a deadlock. Its victim statement alone is undone by the savepoint,
//     but the shared transaction keeps the locks of the others' writes, and
//     goes on taking more while updates join it: two nodes provisioning the
//     same devices in different orders deadlocked again and again, a
//     second apart (PostgreSQL's deadlock_timeout), until their devices'
//     CONNECTs timed out (TestTwoNodesProvisionTheSameDevicesAtOnce).
//     Rolling back lets the other node's transaction through.
//
// (A unique violation is undone by its savepoint alone: the row it
// collided with is committed.)
func dooms(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// retryable reports whether err is PostgreSQL aborting a transaction for a
// conflict with another, which running it again resolves: a serialization
// failure, a deadlock, or a unique violation (a concurrent insert of the
// same key, which SERIALIZABLE may report as such).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505":
		return true
	}
	return false
}

// classify returns fn's error as is, unless it is the database failing to
// answer, which becomes iot.ServiceUnavailable (503 on the API, "server
// unavailable" to a device).
func (db *DB) classify(err error) error {
	var ie *iot.Error
	if errors.As(err, &ie) || errors.Is(err, registry.ErrNotFound) {
		return err
	}
	if unreachable(err) {
		return db.unavailable("query", err)
	}
	return err
}

// unreachable reports whether err says the server could not be reached or
// went away: no connection, a network error, the server shutting down or
// refusing connections, a statement timeout.
func unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", "57": // connection exception; operator intervention (admin shutdown, cannot connect now, query canceled)
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.As(err, new(*pgconn.ConnectError))
}

// unavailable is the error of a database that does not answer.
func (db *DB) unavailable(what string, err error) error {
	return &iot.Error{Code: iot.ServiceUnavailable, Message: "the registry database is unavailable", Err: fmt.Errorf("postgres %s: %s: %w", db.host, what, err)}
}
