// Package postgres is the registry.Store on PostgreSQL, for gateways that
// outgrow one machine (several iotcore nodes on one database) or want the
// registry on a database they already run and back up. It runs package
// sqlstore's statements and migrations through pgx's database/sql driver.
//
// Every update is a SERIALIZABLE transaction, run again when PostgreSQL
// aborts it for a conflict with a concurrent one; views are read-only
// REPEATABLE READ snapshots. A database that cannot be reached is reported
// as iot.ServiceUnavailable, which the API answers with 503 and devices hear
// as "server unavailable"; the pool reconnects by itself when it is back.
package postgres
