package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"regexp"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Dialect is the SQL engine a schema is created on.
type Dialect string

// The engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Migrate brings the schema of db up to the newest embedded migration. It
// is a no-op on an up-to-date database, and refuses a database whose schema
// is newer than this binary knows. Both engines run the same migrations; on
// PostgreSQL every TEXT column is declared COLLATE "C", so that keys sort by
// bytes (as Go compares strings, and as SQLite's BINARY collation does)
// whatever the database's locale.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	var fsys fs.FS
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	gd := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if d == Postgres {
		gd, fsys = goose.DialectPostgres, byteOrderFS{fsys}
		// Nodes of a cluster that start together migrate one at a time.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// p.Close would close db, which the caller owns.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	current, newest, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrate: schema version: %w", err)
	}
	if current > newest {
		return fmt.Errorf("migrate: the database schema is version %d, newer than this binary's %d", current, newest)
	}
	return nil
}

// textColumn matches a TEXT column type in a migration.
var textColumn = regexp.MustCompile(`\bTEXT\b`)

// byteOrderFS serves the migrations with TEXT COLLATE "C" for TEXT.
type byteOrderFS struct{ fs.FS }

func (f byteOrderFS) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil || st.IsDir() {
		return file, err
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, err
	}
	data = textColumn.ReplaceAll(data, []byte(`TEXT COLLATE "C"`))
	return &memFile{Reader: bytes.NewReader(data), info: memInfo{st, int64(len(data))}}, nil
}

type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type memInfo struct {
	fs.FileInfo
	size int64
}

func (i memInfo) Size() int64 { return i.size }
