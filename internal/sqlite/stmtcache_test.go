package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlstore"
)

// A statement is prepared once per pool, in the background after its first
// run, and runs from the cache afterwards, in reads and in writes, from many
// goroutines at once, with the same answers.
func TestStatementsPreparedOnce(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "iotcore.db"))
	ctx := t.Context()
	insert := func(name string) error {
		return db.Update(ctx, func(tx registry.Tx) error {
			return tx.InsertThing(ctx, &registry.Thing{Name: name, ID: "id-" + name, Version: 1, CreatedAt: time.UnixMilli(1700000000000).UTC()})
		})
	}
	read := func(name string) error {
		return db.View(ctx, func(tx registry.Tx) error {
			th, err := tx.Thing(ctx, name)
			if err != nil {
				return err
			}
			if th.ID != "id-"+name {
				return fmt.Errorf("thing %s has id %s", name, th.ID)
			}
			return nil
		})
	}
	if err := insert("first"); err != nil {
		t.Fatal(err)
	}
	if err := read("first"); err != nil {
		t.Fatal(err)
	}
	prepared := func(c *sqlstore.StmtCache, what string) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, preparing := c.Stats()
			if n > 0 && preparing == 0 {
				return n
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s statements: %d cached, %d being prepared", what, n, preparing)
			}
			time.Sleep(time.Millisecond)
		}
	}
	w, r := prepared(db.writeStmts, "write"), prepared(db.readStmts, "read")

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			name := fmt.Sprintf("thing-%d", i)
			if err := insert(name); err != nil {
				errs <- err
				return
			}
			if err := read(name); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The same texts: nothing more was prepared.
	if w2, _ := db.writeStmts.Stats(); w2 != w {
		t.Errorf("write statements cached: %d, then %d: want no new ones", w, w2)
	}
	if r2, _ := db.readStmts.Stats(); r2 != r {
		t.Errorf("read statements cached: %d, then %d: want no new ones", r, r2)
	}
	// Errors come back as before: a missing thing is ErrNotFound.
	if err := read("missing"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("missing thing: %v, want ErrNotFound", err)
	}
}
