package postgres_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/postgres"
	"github.com/iotcore/iotcore/internal/postgres/pgtest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlstore"
)

// Updates that arrive together share a transaction. A serialization
// failure in one of them dooms the transaction, whatever savepoint is
// rolled back to, so every update in it runs again, and each commits once;
// an update's own error undoes its writes alone.
func TestGroupCommitDoomedTransactionRunsAgain(t *testing.T) {
	db, err := postgres.Open(t.Context(), pgtest.Database(t), postgres.Options{Committers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insert := func(rt registry.Tx, n int) error {
		_, err := sqlstore.Exec(t.Context(), rt, "INSERT INTO scratch (n) VALUES ($1)", n)
		return err
	}
	if err := db.Update(t.Context(), func(rt registry.Tx) error {
		_, err := sqlstore.Exec(t.Context(), rt, "CREATE TABLE scratch (n INTEGER PRIMARY KEY)")
		return err
	}); err != nil {
		t.Fatal(err)
	}

	const n, dooming, failing = 8, 4, 6
	boom := errors.New("boom")
	var runs [n + 1]atomic.Int32 // runs[n]: the update holding the committer
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	running, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	wg.Go(func() {
		errs[n] = db.Update(t.Context(), func(rt registry.Tx) error {
			runs[n].Add(1)
			once.Do(func() { close(running) })
			<-release
			return insert(rt, -1)
		})
	})
	<-running
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Update(t.Context(), func(rt registry.Tx) error {
				first := runs[i].Add(1) == 1
				if err := insert(rt, i); err != nil {
					return err
				}
				switch {
				case i == dooming && first:
					return &pgconn.PgError{Code: "40001", Message: "could not serialize access (the test's)"}
				case i == failing:
					return boom
				}
				return nil
			})
		})
	}
	iottest.WaitFor(t, "every update to wait for the committer", func() bool { return db.Waiting() == n })
	close(release)
	wg.Wait()

	// The holder's transaction carried the dooming update: it ran twice.
	if r := runs[n].Load(); r != 2 || errs[n] != nil {
		t.Errorf("the update sharing the doomed transaction ran %d times, err %v; want 2 and nil", r, errs[n])
	}
	if r := runs[dooming].Load(); r != 2 || errs[dooming] != nil {
		t.Errorf("the dooming update ran %d times, err %v; want 2 and nil", r, errs[dooming])
	}
	if !errors.Is(errs[failing], boom) {
		t.Errorf("the failing update: %v, want boom", errs[failing])
	}
	got := map[int]bool{}
	if err := db.View(t.Context(), func(rt registry.Tx) error {
		rows, err := sqlstore.Query(t.Context(), rt, "SELECT n FROM scratch")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return err
			}
			got[v] = true
		}
		return rows.Err()
	}); err != nil {
		t.Fatal(err)
	}
	for i := -1; i < n; i++ {
		if want := i != failing; got[i] != want {
			t.Errorf("row %d kept %v, want %v", i, got[i], want)
		}
		if i >= 0 && i != failing && errs[i] != nil {
			t.Errorf("update %d: %v", i, errs[i])
		}
	}
	if st := db.Stats(); st.Retries < 2 || st.Commits < 2 {
		t.Errorf("stats %+v: want the doomed transaction's updates counted as retries, and its commits", st)
	}
}
