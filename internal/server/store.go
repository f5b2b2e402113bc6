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

// exportStoreStats exports the SQLite store's writer counters, or the
// PostgreSQL store's conflict counters.
func exportStoreStats(m *metrics.Metrics, st store) {
	if db, ok := st.(*sqlite.DB); ok {
		m.CounterFunc("database_updates_total", "Registry updates (write transactions) run by SQLite's single writer.",
			func() float64 { return float64(db.WriterStats().Updates) })
		m.CounterFunc("database_commits_total", "SQLite commits; updates that arrive together share one (group commit).",
			func() float64 { return float64(db.WriterStats().Commits) })
		m.CounterFunc("database_writer_busy_seconds_total", "Time SQLite's single writer was held by updates and commits: "+
			"its rate near 1 means the writer limits the registry's write rate.",
			func() float64 { return db.WriterStats().WriterBusy.Seconds() })
		return
	}
	db, ok := st.(*postgres.DB)
	if !ok {
		return
	}
	m.CounterFunc("database_retries_total", "Registry updates run again after PostgreSQL aborted them for a conflict with a concurrent one.",
		func() float64 { return float64(db.Stats().Retries) })
	m.CounterFunc("database_conflicts_unresolved_total", "Registry updates that still conflicted after every attempt (answered as errors).",
		func() float64 { return float64(db.Stats().GaveUp) })
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
