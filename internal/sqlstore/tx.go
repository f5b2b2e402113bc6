package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

var _ registry.Tx = (*tx)(nil)

// NewTx is the registry transaction over t, whose statements are prepared
// with stmts (the cache of t's pool; nil prepares none). shared says that
// t carries other updates' writes too (SQLite's group commit): its
// statements are then not interrupted by one caller's context, since SQLite
// rolls back the whole transaction when a write is interrupted; a caller
// whose context has ended gets its error before the next statement instead.
func NewTx(t *sql.Tx, stmts *StmtCache, shared bool) registry.Tx {
	return &tx{tx: t, stmts: stmts, shared: shared}
}

// NewAutocommit is a registry.Tx whose statements run on pool outside any
// transaction, each on its own (registry.Store.Read), prepared with stmts
// (the pool's cache; nil prepares none).
func NewAutocommit(pool *sql.DB, stmts *StmtCache) registry.Tx {
	return &tx{pool: pool, stmts: stmts}
}

// tx is one registry transaction. Its methods (one file per concept) use
// only portable SQL, which runs unchanged on SQLite and PostgreSQL.
type tx struct {
	tx    *sql.Tx // nil when statements run on pool, outside a transaction
	pool  *sql.DB
	stmts *StmtCache // of the pool tx is from
	// shared says that tx carries other updates' writes too (group commit):
	// its statements must not be interrupted by the caller's context, since
	// SQLite rolls back the whole transaction when a write is interrupted.
	// A caller whose context has ended gets its error before the next
	// statement instead.
	shared bool
}

// statementContext is the context a statement of t runs with, or the
// caller's context's error when it has ended and t is shared.
func (t *tx) statementContext(ctx context.Context) (context.Context, error) {
	if !t.shared {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.execContext(ctx, query, args...)
}

// execOne runs a statement that must change exactly one row, and reports
// ErrNotFound (wrapped with what) when it changed none.
func (t *tx) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := t.execContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return nil
}

// queryRow scans the single row of query into dest, and reports ErrNotFound
// (wrapped with what) when there is none.
func (t *tx) queryRow(ctx context.Context, what, query string, args []any, dest ...any) error {
	err := t.queryRowContext(ctx, query, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryOne converts the single row of query with scan, and reports
// ErrNotFound (wrapped with what) when there is none.
func queryOne[T any](ctx context.Context, t *tx, what, query string, args []any, scan func(scanner) (T, error)) (*T, error) {
	v, err := scan(t.queryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &v, nil
}

// queryAll converts every row of query with scan.
func queryAll[T any](ctx context.Context, t *tx, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := t.queryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// queryStrings returns the single text column of every row of query.
func (t *tx) queryStrings(ctx context.Context, what, query string, args ...any) ([]string, error) {
	return queryAll(ctx, t, what, query, args, func(sc scanner) (s string, err error) {
		err = sc.Scan(&s)
		return s, err
	})
}

// count returns the single integer of query.
func (t *tx) count(ctx context.Context, what, query string, args ...any) (int, error) {
	var n int
	if err := t.queryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}

// stmt builds a statement with numbered placeholders, for listings whose
// WHERE clause depends on the filter.
type stmt struct {
	conds []string
	args  []any
}

// arg binds v and returns its placeholder.
func (s *stmt) arg(v any) string {
	s.args = append(s.args, v)
	return "$" + strconv.Itoa(len(s.args))
}

// where adds a condition; conditions are joined with AND.
func (s *stmt) where(cond string) { s.conds = append(s.conds, cond) }

// after adds the key-set condition of a page over a single sort column.
func (s *stmt) after(col string, p registry.Page, descending bool) {
	if p.After == "" {
		return
	}
	op := " > "
	if descending {
		op = " < "
	}
	s.where(col + op + s.arg(p.After))
}

// build returns the statement: head, the conditions, then tail and the
// page's LIMIT. A Limit of zero or less means no limit.
func (s *stmt) build(head, tail string, limit int) string {
	q := head
	if len(s.conds) > 0 {
		q += " WHERE " + strings.Join(s.conds, " AND ")
	}
	q += " " + tail
	if limit > 0 {
		q += " LIMIT " + s.arg(limit)
	}
	return q
}

// prefix returns the condition that col starts with prefix. LIKE is not
// used: it ignores ASCII case in SQLite but not in PostgreSQL.
func (s *stmt) prefix(col, prefix string) string {
	if prefix == "" {
		return "1 = 1"
	}
	// The length is cast: PostgreSQL cannot tell a parameter's type from
	// substr's overloads.
	return "substr(" + col + ", 1, CAST(" + s.arg(len([]rune(prefix))) + " AS INTEGER)) = " + s.arg(prefix)
}

// keyPrefix is prefix's condition on an indexed column as a range, which
// the index answers without a scan: the keys that start with an ASCII
// prefix are those from it up to, not including, the prefix with its last
// byte incremented. Other prefixes fall back to prefix.
func (s *stmt) keyPrefix(col, prefix string) string {
	last := prefix[len(prefix)-1]
	for i := range len(prefix) {
		if prefix[i] >= 0x7f {
			return s.prefix(col, prefix)
		}
	}
	upper := prefix[:len(prefix)-1] + string(rune(last+1))
	return col + " >= " + s.arg(prefix) + " AND " + col + " < " + s.arg(upper)
}

// millis is the stored form of a time: epoch milliseconds, as in
// registry.CertificateCursor. The zero time is stored as its own (negative)
// epoch milliseconds and so round-trips.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis inverts millis; times come back in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// certificatePage adds the key-set condition of a page of certificates or CA
// certificates, whose keys are registry.CertificateCursor values, and returns
// the ORDER BY clause.
func certificatePage(s *stmt, p registry.Page, ascending bool) (orderBy string, err error) {
	op, dir := " < ", " DESC"
	if ascending {
		op, dir = " > ", " ASC"
	}
	if p.After != "" {
		ms, id, err := registry.ParseCertificateCursor(p.After)
		if err != nil {
			return "", err
		}
		s.where("(created_at, id)" + op + "(" + s.arg(ms) + ", " + s.arg(id) + ")")
	}
	return "ORDER BY created_at" + dir + ", id" + dir, nil
}

// Exec runs a statement in rt, a transaction of this package, for a store's
// maintenance and tests (tables of their own); the registry never needs it.
func Exec(ctx context.Context, rt registry.Tx, query string, args ...any) (sql.Result, error) {
	t, ok := rt.(*tx)
	if !ok {
		return nil, fmt.Errorf("sqlstore: Exec: %T is not a transaction of this package", rt)
	}
	return t.exec(ctx, query, args...)
}

// Query runs a query in rt, a transaction of this package, for the same
// uses as Exec.
func Query(ctx context.Context, rt registry.Tx, query string, args ...any) (*sql.Rows, error) {
	t, ok := rt.(*tx)
	if !ok {
		return nil, fmt.Errorf("sqlstore: Query: %T is not a transaction of this package", rt)
	}
	return t.queryContext(ctx, query, args...)
}
