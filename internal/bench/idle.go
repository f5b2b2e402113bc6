package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// IdleConfig configures the idle scenario: Connections connections are
// established, Concurrency at a time, then held open for Hold, for the
// server's memory per connection to be measured; at the end each must
// answer a PINGREQ. Each connection keeps itself alive from its CONNACK on
// with a PINGREQ every half keep-alive and nothing else, however long
// connecting the others takes.
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

// RunIdle runs the idle scenario. Ending ctx ends the hold (or the
// connecting) early; the summary still follows.
func RunIdle(ctx context.Context, cfg IdleConfig) (*IdleSummary, error) {
	cfg.Endpoint = cfg.Endpoint.withRecorder()
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
		conns       = make([]*keeper, cfg.Connections)
		latency     = make([]histogram, cfg.Concurrency)
		work        = &budget{ctx: ctx, count: int64(cfg.Connections)}
		opCtx       = context.WithoutCancel(ctx)
		bar         = startProgress(cfg.Progress, "idle: connecting", "connections", int64(cfg.Connections), 0)
	)
	defer func() {
		for _, k := range conns {
			if k != nil {
				_ = k.c.Close()
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
			conns[i] = startKeeper(c)
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
		hold(ctx, &cfg)
	}
	stopKeepers(conns)
	s.HoldSeconds = seconds(time.Since(connected))
	s.Alive = checkAlive(&cfg, conns, &fails)
	end := time.Now()
	s.finish(start, end, &fails, ctx.Err() != nil)
	s.TLS = cfg.Endpoint.report()
	s.Latency = mergeLatency(latency)
	return s, nil
}

// hold waits for cfg.Hold, or until ctx ends; the keepers keep the
// connections alive meanwhile.
func hold(ctx context.Context, cfg *IdleConfig) {
	bar := startProgress(cfg.Progress, "idle: holding", "connections", 0, cfg.Hold)
	defer bar.finish()
	var until <-chan time.Time
	if cfg.Hold > 0 {
		t := time.NewTimer(cfg.Hold)
		defer t.Stop()
		until = t.C
	}
	select {
	case <-ctx.Done():
	case <-until:
	}
}

// stopKeepers stops every keeper and waits for them all.
func stopKeepers(conns []*keeper) {
	for _, k := range conns {
		if k != nil {
			k.signalStop()
		}
	}
	for _, k := range conns {
		if k != nil {
			<-k.done
		}
	}
}

// checkAlive pings every established connection once more, counts those
// that answer, and disconnects them all; a lost one is counted a failure,
// with what its keeper saw.
func checkAlive(cfg *IdleConfig, conns []*keeper, fails *failures) int64 {
	var alive, next atomic.Int64
	runWorkers(cfg.Concurrency, func(int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(conns) {
				return
			}
			k := conns[i]
			if k == nil {
				continue
			}
			if err := k.check(); err != nil {
				fails.add("hold", err)
				continue
			}
			alive.Add(1)
			_ = k.c.Disconnect()
		}
	})
	return alive.Load()
}
