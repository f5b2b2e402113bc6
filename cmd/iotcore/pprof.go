package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// Contention sampling while the profiler serves: one mutex contention event
// in mutexProfileFraction, and blocking (channels, select, sync.Cond,
// mutexes) sampled about once per blockProfileRate of time blocked. Both
// cost little at these rates, and the mutex and block profiles are what
// show a lock that serializes the server (the SQLite writer, a map under a
// mutex) when more cores do not buy more throughput.
const (
	mutexProfileFraction = 20
	blockProfileRate     = 50 * time.Microsecond
)

// servePprof serves Go's profiler (/debug/pprof/) on addr until ctx ends:
// for operators and benchmarks to see where the server's time and memory
// go, and where its goroutines wait (/debug/pprof/mutex, /block). It is
// off unless --pprof-addr names an address, and it has no authentication,
// so it refuses anything but a loopback address.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--pprof-addr %q: the profiler has no authentication; give a loopback address such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	runtime.SetMutexProfileFraction(mutexProfileFraction)
	runtime.SetBlockProfileRate(int(blockProfileRate))
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiler stopped", "error", err)
		}
	}()
	log.Info("profiler serving", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
