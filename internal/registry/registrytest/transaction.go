package registrytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// waitLimit bounds waits that only a broken store makes long (a deadlock, a
// leaked write lock).
const waitLimit = 20 * time.Second

func testTransactions(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"update commits and view sees it", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertThing(ctx, newThing("t1"))
			})
			got := mustGet(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
				return tx.Thing(ctx, "t1")
			})
			if d := cmp.Diff(stored(newThing("t1")), got); d != "" {
				t.Errorf("thing (-want +got):\n%s", d)
			}
		}},
		{"update sees its own writes", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.InsertThing(ctx, newThing("t1")); err != nil {
					return err
				}
				got, err := tx.Thing(ctx, "t1")
				if err != nil {
					return fmt.Errorf("reading an uncommitted insert: %w", err)
				}
				if d := cmp.Diff(stored(newThing("t1")), got); d != "" {
					t.Errorf("thing (-want +got):\n%s", d)
				}
				return nil
			})
		}},
		{"update returns fn's error and rolls back", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertThing(ctx, newThing("kept"))
			})
			errBoom := errors.New("boom")
			err := s.Update(t.Context(), func(tx registry.Tx) error {
				ctx := t.Context()
				if err := tx.InsertThing(ctx, newThing("t1")); err != nil {
					return err
				}
				if err := tx.PutTags(ctx, "arn:t1", []iot.Tag{{Key: "k", Value: "v"}}); err != nil {
					return err
				}
				if err := tx.DeleteThing(ctx, "kept"); err != nil {
					return err
				}
				return fmt.Errorf("wrapped: %w", errBoom)
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Update: got error %v, want one that errors.Is fn's error", err)
			}
			wantRolledBack(t, s)
		}},
		{"update rolls back on panic and panics on", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertThing(ctx, newThing("kept"))
			})
			type boom struct{ n int }
			got := func() (p any) {
				defer func() { p = recover() }()
				_ = s.Update(t.Context(), func(tx registry.Tx) error {
					ctx := t.Context()
					if err := tx.InsertThing(ctx, newThing("t1")); err != nil {
						return err
					}
					if err := tx.PutTags(ctx, "arn:t1", []iot.Tag{{Key: "k", Value: "v"}}); err != nil {
						return err
					}
					if err := tx.DeleteThing(ctx, "kept"); err != nil {
						return err
					}
					panic(boom{42})
				})
				return nil
			}()
			if got != (boom{42}) {
				t.Fatalf("recovered %v, want Update to re-panic with boom{42}", got)
			}
			wantRolledBack(t, s)
			// The transaction must be over, and the write lock released.
			ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
			defer cancel()
			if err := s.Update(ctx, func(tx registry.Tx) error {
				return tx.InsertThing(ctx, newThing("after"))
			}); err != nil {
				t.Fatalf("Update after a panic: %v", err)
			}
		}},
		{"view does not wait for nor see an open update", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				if err := tx.InsertThing(ctx, newThing("t1")); err != nil {
					return err
				}
				done := make(chan error, 1)
				go func() {
					var got error
					err := s.View(ctx, func(tx registry.Tx) error {
						_, got = tx.Thing(ctx, "t1")
						return nil
					})
					done <- errors.Join(err, got)
				}()
				select {
				case err := <-done:
					wantNotFound(t, "View of a thing inserted by an uncommitted Update", err)
				case <-time.After(waitLimit):
					t.Fatalf("View still blocked after %v while an Update was open", waitLimit)
				}
				return nil
			})
			mustGet(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
				return tx.Thing(ctx, "t1")
			})
		}},
		{"view sees one snapshot", func(t *testing.T, s registry.Store) {
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertThing(ctx, newThing("t1"))
			})
			view(t, s, func(ctx context.Context, tx registry.Tx) error {
				before, err := tx.Thing(ctx, "t1")
				if err != nil {
					return err
				}
				// Commit a change while this View is open; it must not wait for the View.
				done := make(chan error, 1)
				go func() {
					done <- s.Update(ctx, func(tx registry.Tx) error {
						th, err := tx.Thing(ctx, "t1")
						if err != nil {
							return err
						}
						th.Version++
						if err := tx.UpdateThing(ctx, th); err != nil {
							return err
						}
						return tx.InsertThing(ctx, newThing("t2"))
					})
				}()
				select {
				case err := <-done:
					if err != nil {
						return fmt.Errorf("Update during a View: %w", err)
					}
				case <-time.After(waitLimit):
					t.Fatalf("Update still blocked after %v while a View was open", waitLimit)
				}
				after, err := tx.Thing(ctx, "t1")
				if err != nil {
					return err
				}
				if after.Version != before.Version {
					t.Errorf("a View saw a change committed after its first read: version %d, then %d", before.Version, after.Version)
				}
				_, err = tx.Thing(ctx, "t2")
				wantNotFound(t, "a thing committed after the View's first read", err)
				return nil
			})
			if th, _ := getThing(t, s, "t1"); th == nil || th.Version != 2 {
				t.Errorf("after the View: got %+v, want version 2", th)
			}
		}},
		{"view refuses writes", func(t *testing.T, s registry.Store) {
			ctx := t.Context()
			var insertErr error
			err := s.View(ctx, func(tx registry.Tx) error {
				insertErr = tx.InsertThing(ctx, newThing("t1"))
				return insertErr
			})
			if insertErr == nil && err == nil {
				t.Errorf("InsertThing in a View: got no error, want one")
			}
			_, err = get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
				return tx.Thing(ctx, "t1")
			})
			wantNotFound(t, "thing inserted in a View", err)
		}},
		{"cancelled context", func(t *testing.T, s registry.Store) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			err := s.Update(ctx, func(tx registry.Tx) error {
				return tx.InsertThing(ctx, newThing("t1"))
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Update with a cancelled context: got error %v, want context.Canceled", err)
			}
			err = s.View(ctx, func(tx registry.Tx) error {
				_, err := tx.Thing(ctx, "t1")
				return err
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("View with a cancelled context: got error %v, want context.Canceled", err)
			}
			_, err = get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
				return tx.Thing(ctx, "t1")
			})
			wantNotFound(t, "thing inserted with a cancelled context", err)
		}},
		{"concurrent updates lose nothing", testConcurrentUpdates},
	})
}

// wantRolledBack checks the state the failed transactions of
// testTransactions must leave: "kept" is there, "t1" and its tag are not.
func wantRolledBack(t *testing.T, s registry.Store) {
	t.Helper()
	_, err := get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
		return tx.Thing(ctx, "t1")
	})
	wantNotFound(t, "thing inserted by a rolled back transaction", err)
	if _, err := get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
		return tx.Thing(ctx, "kept")
	}); err != nil {
		t.Errorf("thing deleted by a rolled back transaction: %v", err)
	}
	tags := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]iot.Tag, error) {
		return tx.ListTags(ctx, "arn:t1", registry.Page{Limit: 10})
	})
	if len(tags) != 0 {
		t.Errorf("tags put by a rolled back transaction: %v", tags)
	}
}

// testConcurrentUpdates runs read-modify-write transactions and inserts from
// several goroutines, with Views alongside, and checks that no write is lost.
func testConcurrentUpdates(t *testing.T, s registry.Store) {
	const writers, rounds = 6, 20
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.InsertThing(ctx, newThing("counter"))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 4*waitLimit)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				err := s.Update(ctx, func(tx registry.Tx) error {
					th, err := tx.Thing(ctx, "counter")
					if err != nil {
						return err
					}
					th.Version++
					if err := tx.UpdateThing(ctx, th); err != nil {
						return err
					}
					return tx.InsertThing(ctx, newThing(fmt.Sprintf("w%d-r%02d", w, r)))
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
					return
				}
			}
		})
		wg.Go(func() {
			for range rounds {
				err := s.View(ctx, func(tx registry.Tx) error {
					_, err := tx.Thing(ctx, "counter")
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	th := mustGet(t, s, func(ctx context.Context, tx registry.Tx) (*registry.Thing, error) {
		return tx.Thing(ctx, "counter")
	})
	if want := int64(1 + writers*rounds); th.Version != want {
		t.Errorf("counter version: got %d, want %d", th.Version, want)
	}
	things := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.Thing, error) {
		return tx.ListThings(ctx, registry.ThingFilter{}, registry.Page{Limit: 10 * writers * rounds})
	})
	if got, want := len(things), 1+writers*rounds; got != want {
		t.Errorf("things: got %d, want %d", got, want)
	}
}
