// Package sqlite is the embedded registry.Store: a SQLite database file reached
// through database/sql and the pure-Go driver modernc.org/sqlite, so the iotcore
// binary stays static.
//
// A DB holds two pools on the same file. Updates go through a single write
// connection that begins every transaction with BEGIN IMMEDIATE, so writers
// queue in Go instead of failing with SQLITE_BUSY, and updates that arrive
// together share one commit (groupcommit.go); Views go through a pool of
// read-only connections which, in WAL mode, never wait for the writer. The
// registry's statements and the schema's migrations are package sqlstore's,
// which PostgreSQL shares; Open brings the schema up to date.
package sqlite
