package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlstore"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ registry.Store = (*DB)(nil)

// busyTimeoutMillis bounds how long a connection waits for a lock held by
// another process (or a checkpoint) before failing with SQLITE_BUSY. Writers
// in this process never contend: they share one connection.
const busyTimeoutMillis = 10000

// DB is a registry.Store kept in one SQLite database file.
type DB struct {
	path  string
	write *sql.DB // exactly one connection; every transaction is BEGIN IMMEDIATE
	read  *sql.DB // read-only connections for View

	writeStmts, readStmts *sqlstore.StmtCache
	commits               *sqlstore.GroupCommitter // the single writer
}

// Synchronous is how far a commit goes before Update returns (SQLite's
// PRAGMA synchronous in WAL mode).
type Synchronous string

const (
	// SynchronousFull makes every acknowledged write durable: a commit
	// returns once the write-ahead log is on disk, so not even a power or
	// kernel failure loses it. The default. Updates that arrive together
	// share one commit (group commit), so the disk's flushes, not the
	// updates, set the pace.
	SynchronousFull Synchronous = "full"
	// SynchronousNormal commits without waiting for the disk: a process
	// crash loses nothing, but a power or kernel failure may lose the last
	// acknowledged writes (a revocation among them).
	SynchronousNormal Synchronous = "normal"
)

// Options tune the database. The zero value is the safe default.
type Options struct {
	// Synchronous is SynchronousFull or SynchronousNormal; "" means full.
	Synchronous Synchronous
}

// Open opens the database file at path with the default Options.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith opens the database file at path, creating it with mode 0600 if it
// does not exist, and migrates its schema to the newest version. The
// directory must exist. Close releases it.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	switch opts.Synchronous {
	case "":
		opts.Synchronous = SynchronousFull
	case SynchronousFull, SynchronousNormal:
	default:
		return nil, fmt.Errorf("sqlite: open: synchronous %q: want full or normal", opts.Synchronous)
	}
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open: %q is not a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// SQLite would create the file with mode 0644; create it first so that it,
	// and the -wal and -shm files SQLite gives the same mode, stay private.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}

	db := &DB{path: abs}
	db.write, err = sql.Open("sqlite", dsn(abs, true, opts.Synchronous))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := sqlstore.Migrate(ctx, db.write, sqlstore.SQLite); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	db.read, err = sql.Open("sqlite", dsn(abs, false, opts.Synchronous))
	if err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.writeStmts, db.readStmts = sqlstore.NewStmtCache(db.write), sqlstore.NewStmtCache(db.read)
	db.commits = sqlstore.NewGroupCommitter(func(ctx context.Context) (*sql.Tx, error) {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		return tx, nil
	}, db.writeStmts, nil)
	if err := db.read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// dsn returns the driver's data source name for the file at the absolute
// path abs: a file: URI (so that any character in the path is safe) with the
// connection's pragmas, applied by the driver to every new connection.
func dsn(abs string, write bool, sync Synchronous) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	if write {
		q.Add("_pragma", "journal_mode(WAL)") // persistent: readers inherit it
		q.Add("_pragma", "synchronous("+strings.ToUpper(string(sync))+")")
		// Each update of a group commit runs in a savepoint, and SQLite
		// keeps the pages a savepoint changes in a sub-journal: a temporary
		// file by default, written with a syscall per page. In memory it
		// costs a few pages per update; on disk it was a fifth of the
		// writer's CPU for a JITP device (BenchmarkProvisionDevice).
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
}

// Close closes both pools. A checkpoint folds the write-ahead log back into
// the database file when the last connection closes.
func (db *DB) Close() error {
	var errs []error
	for _, c := range []*sqlstore.StmtCache{db.writeStmts, db.readStmts} {
		if c != nil {
			c.Close()
		}
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", db.path, err)
	}
	return nil
}

// WriterStats says how busy the single writer is: the updates it ran,
// the transactions it committed (several updates share one when they
// arrive together), and how long it was held, in total. Updates run one
// at a time, so WriterBusy growing as fast as the clock means the writer
// is what limits the registry's write rate, whatever the cores.
type WriterStats struct {
	Updates, Commits int64
	WriterBusy       time.Duration
}

// WriterStats reads the writer's counters.
func (db *DB) WriterStats() WriterStats {
	st := db.commits.Stats()
	return WriterStats{Updates: st.Updates, Commits: st.Commits, WriterBusy: st.Busy}
}

// Update runs fn in a write transaction and commits it when fn returns nil;
// it returns once the commit is as durable as Options.Synchronous says.
// It returns fn's error as is. When fn returns an error, panics or calls
// runtime.Goexit, its writes are rolled back (and the panic goes on).
// Updates are serialised: only one fn runs at a time; updates that arrive
// while one runs share its commit (sqlstore.GroupCommitter).
func (db *DB) Update(ctx context.Context, fn func(registry.Tx) error) error {
	return db.commits.Update(ctx, fn)
}

// View runs fn in a read-only transaction that sees the data committed when
// it first reads. Writes inside fn fail.
func (db *DB) View(ctx context.Context, fn func(registry.Tx) error) error {
	sqlTx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin view: %w", err)
	}
	defer sqlTx.Rollback()
	return fn(sqlstore.NewTx(sqlTx, db.readStmts, false))
}

// Read runs fn's statements on the read-only connections, outside any
// transaction (registry.Store.Read). Writes inside fn fail.
func (db *DB) Read(ctx context.Context, fn func(registry.Tx) error) error {
	return fn(sqlstore.NewAutocommit(db.read, db.readStmts))
}

// IntegrityCheck runs PRAGMA integrity_check and reports what it finds wrong.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.read.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("sqlite: integrity check: %w", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite: integrity check of %s: %s", db.path, strings.Join(problems, "; "))
	}
	return nil
}

// Ping checks that the database answers a read, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping %s: %w", db.path, err)
	}
	return nil
}
