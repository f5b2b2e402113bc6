// Package postgres is the registry.Store on PostgreSQL, for gateways that
// outgrow one machine (several iotcore nodes on one database) or want the
// registry on a database they already run and back up. It runs package
// sqlstore's statements and migrations through pgx's database/sql driver.
//
// Every update is a SERIALIZABLE transaction, shared by the updates that
// arrive together (group commit, one transaction at a time per node unless
// Options.Committers says more) and run again when PostgreSQL aborts it for
// a conflict with a concurrent one; views are read-only REPEATABLE READ
// snapshots, and one-statement reads run outside a transaction. The pool's
// connections carry TCP timeouts of their own (dial.go), so that one that
// hangs does not hold the node's writes for minutes. A database that cannot be reached is reported
// as iot.ServiceUnavailable, which the API answers with 503 and devices hear
// as "server unavailable"; the pool reconnects by itself when it is back.
package postgres
