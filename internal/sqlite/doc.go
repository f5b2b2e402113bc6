// Package sqlite is the embedded registry.Store: a SQLite database file reached
// through database/sql and the pure-Go driver modernc.org/sqlite, so the iotcore
// binary stays static.
//
// A DB holds two pools on the same file. Updates go through a single write
// connection that begins every transaction with BEGIN IMMEDIATE, so writers
// queue in Go instead of failing with SQLITE_BUSY; Views go through a pool of
// read-only connections which, in WAL mode, never wait for the writer. The
// schema lives in versioned goose migrations embedded in the binary and is
// brought up to date by Open.
//
// The SQL is kept portable so that a PostgreSQL store can run the same
// statements: numbered placeholders ($1, $2), TEXT strings, BIGINT epoch
// milliseconds for times, INSERT ... ON CONFLICT for upserts, row-value
// comparisons for key-set pagination, and no SQLite-only functions.
package sqlite
