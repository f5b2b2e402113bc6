package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/registry/registrytest"
	"github.com/iotcore/iotcore/internal/sqlstore"
)

func openTest(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.Store {
		return openTest(t, filepath.Join(t.TempDir(), "iotcore.db"))
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iotcore.db")
	ctx := t.Context()
	thing := &registry.Thing{
		Name:       "t1",
		ID:         "id",
		Attributes: map[string]string{"a": "b"},
		Version:    1,
		CreatedAt:  time.UnixMilli(1700000000123).UTC(),
	}

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Update(ctx, func(tx registry.Tx) error { return tx.InsertThing(ctx, thing) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = openTest(t, path)
	var got *registry.Thing
	if err := db.View(ctx, func(tx registry.Tx) error {
		got, err = tx.Thing(ctx, "t1")
		return err
	}); err != nil {
		t.Fatalf("View after reopening: %v", err)
	}
	if d := cmp.Diff(thing, got); d != "" {
		t.Errorf("thing after reopening (-want +got):\n%s", d)
	}

	before := migrationRows(t, db)
	if err := sqlstore.Migrate(ctx, db.write, sqlstore.SQLite); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	if after := migrationRows(t, db); after != before {
		t.Errorf("migrating again changed the version table: %d rows, then %d", before, after)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Errorf("IntegrityCheck: %v", err)
	}
}

func migrationRows(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM goose_db_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iotcore.db")
	ctx := t.Context()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database from a newer binary: got no error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a database from a newer binary: got %v, want an error saying so", err)
	}
}

func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "iotcore.db")
	db := openTest(t, path)
	if err := db.Update(t.Context(), func(tx registry.Tx) error {
		return tx.PutRegistrationCode(t.Context(), "111111111111", "code", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		if mode := info.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group or others", e.Name(), mode)
		}
	}
	if want := []string{"iotcore.db", "iotcore.db-shm", "iotcore.db-wal"}; !cmp.Equal(want, names) {
		t.Errorf("files: got %q, want %q (is the journal in WAL mode?)", names, want)
	}
}

func TestOpenPaths(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{"special characters", filepath.Join(dir, "a?b#c d%20.db"), false},
		{"missing directory", filepath.Join(dir, "missing", "iotcore.db"), true},
		{"empty", "", true},
		{"memory", ":memory:", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(t.Context(), tc.path)
			if tc.wantErr {
				if err == nil {
					db.Close()
					t.Fatalf("Open(%q): got no error", tc.path)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.path, err)
			}
			defer db.Close()
			if _, err := os.Stat(tc.path); err != nil {
				t.Errorf("the database is not at the path given: %v", err)
			}
		})
	}
}

func TestIntegrityCheckFindsCorruption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iotcore.db")
	ctx := t.Context()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx registry.Tx) error {
		for i := range 200 {
			th := &registry.Thing{
				Name:       fmt.Sprintf("thing-%04d", i),
				ID:         strings.Repeat("x", 100),
				Attributes: map[string]string{"serial": strings.Repeat("s", 200)},
				Version:    1,
			}
			if err := tx.InsertThing(ctx, th); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Overwrite the middle of the file (past the header and schema pages).
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("\xff", 4096))
	if _, err := f.WriteAt(garbage, info.Size()/2); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		return // refusing a corrupt file is fine too
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err == nil {
		t.Error("IntegrityCheck of a corrupted file: got no error")
	}
}
