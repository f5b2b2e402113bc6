package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlstore"
)

// An acknowledged write must survive a power or kernel failure, not only a
// crash of the process: a REVOKED status that comes back after a reboot lets
// a revoked device in again. WAL with synchronous=NORMAL does not promise
// that; FULL does.
func TestCommitsAreDurableByDefault(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{
		{Options{}, 2},
		{Options{Synchronous: SynchronousFull}, 2},
		{Options{Synchronous: SynchronousNormal}, 1},
	} {
		t.Run(string(tc.opts.Synchronous), func(t *testing.T) {
			db, err := OpenWith(t.Context(), filepath.Join(t.TempDir(), "iotcore.db"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got int
			if err := db.write.QueryRow("PRAGMA synchronous").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA synchronous = %d, want %d", got, tc.want)
			}
		})
	}
	if _, err := OpenWith(t.Context(), filepath.Join(t.TempDir(), "x.db"), Options{Synchronous: "off"}); err == nil {
		t.Error("synchronous=off was accepted")
	}
}

// scratch makes a table the group-commit tests write to.
func scratch(t *testing.T) *DB {
	t.Helper()
	db := openTest(t, filepath.Join(t.TempDir(), "iotcore.db"))
	if _, err := db.write.Exec("CREATE TABLE scratch (n INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return db
}

func insert(n int) func(registry.Tx) error {
	return func(rt registry.Tx) error {
		_, err := sqlstore.Exec(context.Background(), rt, "INSERT INTO scratch (n) VALUES ($1)", n)
		return err
	}
}

func rowsIn(t *testing.T, db *DB) map[int]bool {
	t.Helper()
	rows, err := db.read.Query("SELECT n FROM scratch")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]bool{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got[n] = true
	}
	return got
}

// Updates that arrive while one runs share its commit; each is still its
// own transaction: the one whose fn fails (or panics) loses its writes
// alone, and the others' are all there.
func TestGroupCommit(t *testing.T) {
	db := scratch(t)
	const n = 24
	boom := errors.New("boom")
	errs := make([]error, n)
	panicked := make([]any, n)
	var wg sync.WaitGroup

	stats := db.WriterStats()
	release := hold(t, db, &wg) // the writer, until every update waits for it
	for i := range n {
		wg.Go(func() {
			defer func() { panicked[i] = recover() }()
			errs[i] = db.Update(t.Context(), func(rt registry.Tx) error {
				if err := insert(i)(rt); err != nil {
					return err
				}
				switch i % 8 {
				case 3:
					return boom // its insert is undone
				case 5:
					panic(fmt.Sprint("panic ", i))
				}
				return nil
			})
		})
	}
	iottest.WaitFor(t, "every update to wait for the writer", func() bool { return db.commits.Waiting() == n })
	release()
	wg.Wait()

	got := rowsIn(t, db)
	for i := range n {
		switch i % 8 {
		case 3:
			if !errors.Is(errs[i], boom) || got[i] {
				t.Errorf("update %d: err %v, row kept %v; want boom and no row", i, errs[i], got[i])
			}
		case 5:
			if panicked[i] != fmt.Sprint("panic ", i) || got[i] {
				t.Errorf("update %d: panic %v, row kept %v; want its panic and no row", i, panicked[i], got[i])
			}
		default:
			if errs[i] != nil || !got[i] {
				t.Errorf("update %d: err %v, row kept %v; want nil and its row", i, errs[i], got[i])
			}
		}
	}
	// The update holding the writer and the n behind it: one commit.
	after := db.WriterStats()
	if after.Updates-stats.Updates != n+1 || after.Commits-stats.Commits != 1 || after.WriterBusy <= stats.WriterBusy {
		t.Errorf("WriterStats went from %+v to %+v; want %d more updates, 1 more commit, more busy time", stats, after, n+1)
	}
}

// hold runs an update (in wg) that holds the writer until release is
// called, after which it checks that the update committed; updates made
// meanwhile wait for it, and then share its transaction.
func hold(t *testing.T, db *DB, wg *sync.WaitGroup) (release func()) {
	t.Helper()
	running, released := make(chan struct{}), make(chan struct{})
	wg.Go(func() {
		err := db.Update(t.Context(), func(rt registry.Tx) error {
			close(running)
			<-released
			return insert(-1)(rt)
		})
		if err != nil {
			t.Errorf("the update holding the writer: %v", err)
		}
	})
	<-running
	return func() { close(released) }
}

// A caller whose context ends does not take the updates it shares a
// transaction with down with it.
func TestGroupCommitCancelledMember(t *testing.T) {
	db := scratch(t)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	errs := make([]error, 3)
	var wg sync.WaitGroup
	release := hold(t, db, &wg)
	for i := range 3 {
		ctx := t.Context()
		if i == 1 {
			ctx = cancelled
		}
		wg.Go(func() {
			errs[i] = db.Update(ctx, func(rt registry.Tx) error {
				_, err := sqlstore.Exec(ctx, rt, "INSERT INTO scratch (n) VALUES ($1)", i)
				return err
			})
		})
	}
	iottest.WaitFor(t, "every update to wait for the writer", func() bool { return db.commits.Waiting() == 3 })
	release()
	wg.Wait()
	got := rowsIn(t, db)
	if !errors.Is(errs[1], context.Canceled) || got[1] {
		t.Errorf("cancelled update: err %v, row kept %v; want context.Canceled and no row", errs[1], got[1])
	}
	for _, i := range []int{0, 2} {
		if errs[i] != nil || !got[i] {
			t.Errorf("update %d: err %v, row kept %v; want nil and its row", i, errs[i], got[i])
		}
	}
}

// runtime.Goexit in fn (t.FailNow, say) ends the caller's update alone.
func TestGroupCommitGoexit(t *testing.T) {
	db := scratch(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = db.Update(t.Context(), func(rt registry.Tx) error {
			_ = insert(1)(rt)
			runtime.Goexit()
			return nil
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("an update whose fn called Goexit never ended")
	}
	if err := db.Update(t.Context(), insert(2)); err != nil {
		t.Fatalf("update after a Goexit: %v", err)
	}
	if got := rowsIn(t, db); got[1] || !got[2] {
		t.Errorf("rows %v, want only 2", got)
	}
}

// BenchmarkUpdate measures concurrent one-row updates under each
// synchronous setting; updates/commit shows how many share an fsync.
func BenchmarkUpdate(b *testing.B) {
	for _, sync := range []Synchronous{SynchronousNormal, SynchronousFull} {
		for _, par := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/callers=%d", sync, par), func(b *testing.B) {
				db, err := OpenWith(b.Context(), filepath.Join(b.TempDir(), "iotcore.db"), Options{Synchronous: sync})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if _, err := db.write.Exec("CREATE TABLE scratch (n INTEGER PRIMARY KEY)"); err != nil {
					b.Fatal(err)
				}
				var next atomic.Int64
				before := db.commits.Stats().Commits
				b.SetParallelism(par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := db.Update(b.Context(), insert(int(next.Add(1)))); err != nil {
							b.Error(err)
							return
						}
					}
				})
				if c := db.commits.Stats().Commits - before; c > 0 {
					b.ReportMetric(float64(b.N)/float64(c), "updates/commit")
				}
			})
		}
	}
}
