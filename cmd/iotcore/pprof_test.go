package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The profiler serves on loopback only: it has no authentication.
func TestPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060", "no-port"} {
		if err := servePprof(t.Context(), addr, log); err == nil {
			t.Errorf("--pprof-addr %s: served; want refused", addr)
		}
	}

	// A free loopback port, then the profiler on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	if err := servePprof(t.Context(), addr, log); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("GET goroutine profile: %s %.100q", resp.Status, body)
	}
}

// While the profiler serves, contention is sampled: the mutex profile shows
// a lock goroutines fight over.
func TestPprofSamplesContention(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	if err := servePprof(t.Context(), addr, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runtime.SetMutexProfileFraction(0); runtime.SetBlockProfileRate(0) })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		contend()
		resp, err := http.Get("http://" + addr + "/debug/pprof/mutex?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "iotcore.contend") {
			return
		}
	}
	resp, _ := http.Get("http://" + addr + "/debug/pprof/mutex?debug=1")
	body, _ := io.ReadAll(resp.Body)
	t.Fatalf("the mutex profile never showed the contended lock:\n%.3000s", body)
}

// contend makes goroutines fight over one mutex for a while.
func contend() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	for range 4 {
		wg.Go(func() {
			for range 20000 {
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
