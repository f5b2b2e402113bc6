package server

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/iotcore/iotcore/internal/metrics"
	"github.com/iotcore/iotcore/internal/postgres"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
	"github.com/iotcore/iotcore/internal/sqlstore"
)

// store is the registry's database: SQLite in the data directory, or
// PostgreSQL.
type store interface {
	registry.Store
	Ping(ctx context.Context) error
	Close() error
}

// openStore opens the store cfg names: PostgreSQL at cfg.DatabaseURL, or
// the SQLite file at sqlitePath.
func openStore(ctx context.Context, cfg Config, sqlitePath string) (store, error) {
	if cfg.DatabaseURL == "" {
		return sqlite.OpenWith(ctx, sqlitePath, sqlite.Options{Synchronous: sqlite.Synchronous(cfg.DatabaseSynchronous)})
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.Postgres)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("registry on PostgreSQL", "database", RedactDatabaseURL(cfg.DatabaseURL))
	return db, nil
}

// exportStoreStats exports the store's writer counters (SQLite's single
// writer, PostgreSQL's committers), and PostgreSQL's conflict counters.
func exportStoreStats(m *metrics.Metrics, st store) {
	var writer func() sqlstore.GroupCommitStats
	switch db := st.(type) {
	case *sqlite.DB:
		writer = func() sqlstore.GroupCommitStats {
			ws := db.WriterStats()
			return sqlstore.GroupCommitStats{Updates: ws.Updates, Commits: ws.Commits, Busy: ws.WriterBusy}
		}
	case *postgres.DB:
		writer = func() sqlstore.GroupCommitStats { return db.Stats().GroupCommitStats }
		m.CounterFunc("database_retries_total", "Registry updates run again after PostgreSQL aborted them for a conflict with a concurrent one.",
			func() float64 { return float64(db.Stats().Retries) })
		m.CounterFunc("database_conflicts_unresolved_total", "Registry updates that still conflicted after every attempt (answered as errors).",
			func() float64 { return float64(db.Stats().GaveUp) })
	default:
		return
	}
	m.CounterFunc("database_updates_total", "Registry updates (write transactions) run by the writer (SQLite's single one, PostgreSQL's committers).",
		func() float64 { return float64(writer().Updates) })
	m.CounterFunc("database_commits_total", "Registry commits; updates that arrive together share one (group commit).",
		func() float64 { return float64(writer().Commits) })
	m.CounterFunc("database_writer_busy_seconds_total", "Time the writer was held by updates and commits (summed over PostgreSQL's committers): "+
		"its rate near 1 per writer means the writer limits the registry's write rate.",
		func() float64 { return writer().Busy.Seconds() })
}

// checkDatabaseURL says what is wrong with a --database-url.
func checkDatabaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("database url %s: want postgres://user:password@host:port/database", RedactDatabaseURL(raw))
	}
	return nil
}

// RedactDatabaseURL is a database URL fit for logs: without its password.
func RedactDatabaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.Index(raw, "@"); i >= 0 {
			return "(unparsable URL)@" + raw[i+1:]
		}
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
