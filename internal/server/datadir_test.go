package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/iotcore/iotcore/internal/server"
)

func openOn(ctx context.Context, dir string, logger *slog.Logger) (*server.Server, error) {
	return server.Open(ctx, server.Config{
		DataDir:  dir,
		APIAddr:  "127.0.0.1:0",
		MQTTAddr: "127.0.0.1:0",
		Logger:   logger,
	})
}

// A second server on a data directory that one already serves would keep a
// registry cache of its own: a certificate revoked through one would stay
// usable on the other. It must not start, and must say who holds the
// directory.
func TestSecondServerOnDataDirRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := openOn(t.Context(), dir, testLogger())
	if err != nil {
		t.Fatalf("open the first server: %v", err)
	}
	second, err := openOn(t.Context(), dir, testLogger())
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("a second server opened the data directory the first holds")
	}
	if !errors.Is(err, server.ErrDataDirInUse) {
		t.Errorf("second open: %v, want ErrDataDirInUse", err)
	}
	if want := fmt.Sprintf("pid %d", os.Getpid()); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--data-dir") {
		t.Errorf("second open: %q, want it to name the holder (%s) and --data-dir", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("close the first server: %v", err)
	}
	// Once the first has gone, the directory is free again.
	third, err := openOn(t.Context(), dir, testLogger())
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	if err := third.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// Servers started together on an empty directory raced to migrate the
// database ("table ... already exists") and to create the root CA, each
// replacing the other's. Exactly one must win; the others are refused
// before they touch anything.
func TestServersStartedTogetherOnEmptyDataDir(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		opened  []*server.Server
		refused int
		others  []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			srv, err := openOn(t.Context(), dir, testLogger())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				opened = append(opened, srv)
			case errors.Is(err, server.ErrDataDirInUse):
				refused++
			default:
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, s := range opened {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	if len(opened) != 1 || refused != n-1 || len(others) != 0 {
		t.Fatalf("%d opened, %d refused as in use, other errors %v; want 1 opened and %d refused", len(opened), refused, others, n-1)
	}
	// What the winner created is whole: a restart reuses it.
	srv, err := openOn(t.Context(), dir, testLogger())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if srv.FirstStart {
		t.Error("reopen created new credentials: the first start's were lost")
	}
	srv.Close()
}

func TestOpenDataDirWarned(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode os.FileMode
		warn bool
	}{
		{"private", 0o700, false},
		{"group may read", 0o750, false},
		{"world writable", 0o777, true},
		{"others may read", 0o755, false},
		{"others may write", 0o703, true},
		{"group may write", 0o770, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			var buf syncBuffer
			srv, err := openOn(t.Context(), dir, slog.New(slog.NewTextHandler(&buf, nil)))
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			srv.Close()
			got := strings.Contains(buf.String(), "data directory is open to other users")
			if got != tc.warn {
				t.Errorf("mode %#o: warned %v, want %v; log:\n%s", tc.mode, got, tc.warn, buf.String())
			}
		})
	}
}
