package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// IdleConfig configures the idle scenario: Connections connections are
// established, Concurrency at a time, then held open for Hold with a
// PINGREQ every half keep-alive and nothing else, for the server's memory
// per connection to be measured; at the end each must answer a PINGREQ.
type IdleConfig struct {
	Endpoint Endpoint
	// Certificate is the identity every connection presents. Required.
	Certificate tls.Certificate
	// ClientID names connection i; "" means DefaultClientID, with role i.
	ClientID string
	// Connections is how many to hold; at least 1.
	Connections int
	// Concurrency is how many connect at once; zero means DefaultConcurrency.
	Concurrency int
	// Hold is how long they are held; zero means until ctx ends.
	Hold time.Duration
	// Ready, if set, is called once every connection has been tried, with
	// how many were established, before the hold: the moment to measure.
	Ready func(established int64)
	// Progress, if set, is a terminal to draw a progress bar on.
	Progress io.Writer
}

// idleConn is one held connection.
type idleConn struct {
	c     *Conn
	pings int // PINGREQs sent, whose PINGRESPs are unread
	dead  bool
}

// RunIdle runs the idle scenario. Ending ctx ends the hold (or the
// connecting) early; the summary still follows.
func RunIdle(ctx context.Context, cfg IdleConfig) (*IdleSummary, error) {
	if cfg.Connections < 1 {
		return nil, fmt.Errorf("idle: %d connections: want at least 1", cfg.Connections)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	cfg.Concurrency = min(cfg.Concurrency, cfg.Connections)
	ids, err := clientIDs(cfg.ClientID, cfg.Certificate, "i", cfg.Connections)
	if err != nil {
		return nil, fmt.Errorf("idle: %w", err)
	}
	tlsConfig := cfg.Endpoint.TLSConfig(cfg.Certificate)
	s := &IdleSummary{Run: Run{Scenario: "idle", Endpoint: cfg.Endpoint.Addr}, Connections: cfg.Connections, Concurrency: cfg.Concurrency}

	var (
		fails       failures
		established atomic.Int64
		conns       = make([]idleConn, cfg.Connections)
		latency     = make([]histogram, cfg.Concurrency)
		work        = &budget{ctx: ctx, count: int64(cfg.Connections)}
		opCtx       = context.WithoutCancel(ctx)
		bar         = startProgress(cfg.Progress, "idle: connecting", "connections", int64(cfg.Connections), 0)
	)
	defer func() {
		for _, ic := range conns {
			if ic.c != nil {
				_ = ic.c.Close()
			}
		}
	}()
	start := time.Now()
	runWorkers(cfg.Concurrency, func(w int) {
		for {
			i, ok := work.take()
			if !ok {
				return
			}
			t0 := time.Now()
			c, err := Dial(opCtx, cfg.Endpoint, tlsConfig)
			if err == nil {
				if err = c.Connect(ids[i]); err != nil {
					_ = c.Close()
				}
			}
			if err != nil {
				fails.add("connect", err)
				bar.fail()
				continue
			}
			latency[w].record(time.Since(t0))
			conns[i].c = c
			established.Add(1)
			bar.add(1)
		}
	})
	connected := time.Now()
	bar.finish()
	s.Established = established.Load()
	s.ConnectSeconds = seconds(connected.Sub(start))
	if cfg.Ready != nil {
		cfg.Ready(s.Established)
	}

	if ctx.Err() == nil {
		hold(ctx, &cfg, conns)
	}
	s.HoldSeconds = seconds(time.Since(connected))
	s.Alive = checkAlive(&cfg, conns, &fails)
	end := time.Now()
	s.finish(start, end, &fails, ctx.Err() != nil)
	s.Latency = mergeLatency(latency)
	return s, nil
}

// hold keeps the connections for cfg.Hold or until ctx ends, pinging each
// every half keep-alive.
func hold(ctx context.Context, cfg *IdleConfig, conns []idleConn) {
	bar := startProgress(cfg.Progress, "idle: holding", "connections", 0, cfg.Hold)
	defer bar.finish()
	var until <-chan time.Time
	if cfg.Hold > 0 {
		t := time.NewTimer(cfg.Hold)
		defer t.Stop()
		until = t.C
	}
	pings := time.NewTicker(time.Duration(cfg.Endpoint.keepAlive()) * time.Second / 2)
	defer pings.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-until:
			return
		case <-pings.C:
			for i := range conns {
				ic := &conns[i]
				if ic.c == nil || ic.dead {
					continue
				}
				if err := ic.c.Ping(); err != nil {
					ic.dead = true
					continue
				}
				ic.pings++
			}
		}
	}
}

// checkAlive pings every established connection once more, counts those
// that answer, and disconnects them all.
func checkAlive(cfg *IdleConfig, conns []idleConn, fails *failures) int64 {
	var alive, next atomic.Int64
	runWorkers(cfg.Concurrency, func(int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(conns) {
				return
			}
			ic := &conns[i]
			if ic.c == nil {
				continue
			}
			err := errors.New("a keep-alive PINGREQ could not be written")
			if !ic.dead {
				err = ic.c.Ping()
			}
			for n := ic.pings + 1; err == nil && n > 0; n-- {
				_, err = ic.c.Await(packets.Pingresp, 0)
			}
			if err != nil {
				fails.add("hold", err)
				continue
			}
			alive.Add(1)
			_ = ic.c.Disconnect()
		}
	})
	return alive.Load()
}
