package postgres_test

import (
	"os"
	"testing"

	"github.com/iotcore/iotcore/internal/postgres"
	"github.com/iotcore/iotcore/internal/postgres/pgtest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/registry/registrytest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url, postgres.Options{})
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

// TestStore runs the registry's conformance suite, unchanged, on PostgreSQL.
func TestStore(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.Store {
		return open(t, pgtest.Database(t))
	})
}
