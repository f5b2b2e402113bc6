// Package sqlstore is the registry's transactions in portable SQL over
// database/sql, shared by the two stores: internal/sqlite (embedded, the
// default) and internal/postgres. Each store owns its connections and its
// transactions, and both write through a GroupCommitter (updates that
// arrive together share one transaction, each in a savepoint): SQLite's
// single writer, and on PostgreSQL serializable transactions retried on
// conflicts. A store hands each *sql.Tx to NewTx, or its pool to
// NewAutocommit for reads outside a transaction; everything the registry
// reads and writes is here, once.
//
// The SQL runs unchanged on both engines: numbered placeholders ($1, $2),
// TEXT strings, BIGINT epoch milliseconds for times, BOOLEAN flags,
// INSERT ... ON CONFLICT for upserts, row-value comparisons for key-set
// pagination, and no engine-only functions. The schema is one set of goose
// migrations (migrations/), which Migrate applies to either engine; on
// PostgreSQL its TEXT columns are COLLATE "C", so that keys sort by bytes as
// on SQLite and in Go.
//
// Files: tx.go (the transaction and its statement helpers), stmtcache.go
// (prepared statements per pool), groupcommit.go, migrate.go, and one file
// per registry concept (thing.go, certificate.go, policy.go, ...).
package sqlstore
