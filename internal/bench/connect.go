package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// ConnectConfig configures the connect scenario: Concurrency workers each
// connect (TCP, a full TLS handshake with the client certificate, CONNECT,
// CONNACK), disconnect, and start again, for Duration or until Count
// connects have been tried: the steady state of a fleet whose devices come
// and go.
type ConnectConfig struct {
	Endpoint Endpoint
	// Certificate is the identity every connection presents: a registered,
	// ACTIVE certificate whose policy allows the client IDs. Required.
	Certificate tls.Certificate
	// ClientID names the connects, {i} being each one's number, so that
	// every connect is a new client: AWS IoT, and iotcore, allow one
	// CONNECT per second per client ID. "" means DefaultClientID, with role
	// c. Without {i}, Concurrency must be 1.
	ClientID string
	// Concurrency is how many connect at once; zero means DefaultConcurrency.
	Concurrency int
	// Count, if positive, is how many connects to try; otherwise the run
	// lasts Duration.
	Count    int
	Duration time.Duration
	// Progress, if set, is a terminal to draw a progress bar on.
	Progress io.Writer
}

// RunConnect runs the connect scenario. Ending ctx ends it early.
func RunConnect(ctx context.Context, cfg ConnectConfig) (*ConnectSummary, error) {
	cfg.Endpoint = cfg.Endpoint.withRecorder()
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Count <= 0 && cfg.Duration <= 0 {
		return nil, errors.New("connect: give a count or a duration")
	}
	if cfg.Count > 0 {
		cfg.Concurrency = min(cfg.Concurrency, cfg.Count)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if err := checkClientID(cfg.ClientID, cfg.Concurrency); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := clientID(cfg.ClientID, cfg.Certificate, "c", 0); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	cn, _ := commonName(cfg.Certificate) // checked by clientID when the template uses it
	tlsConfig := cfg.Endpoint.TLSConfig(cfg.Certificate)
	s := &ConnectSummary{Run: Run{Scenario: "connect", Endpoint: cfg.Endpoint.Addr}, Concurrency: cfg.Concurrency}

	var (
		fails    failures
		connects atomic.Int64
		latency  = make([]histogram, cfg.Concurrency)
		work     = &budget{ctx: ctx, count: int64(cfg.Count)}
		opCtx    = context.WithoutCancel(ctx)
		bar      *progress
	)
	start := time.Now()
	if cfg.Count > 0 {
		bar = startProgress(cfg.Progress, "connect", "connects", int64(cfg.Count), 0)
	} else {
		work.deadline = start.Add(cfg.Duration)
		bar = startProgress(cfg.Progress, "connect", "connects", 0, cfg.Duration)
	}
	runWorkers(cfg.Concurrency, func(w int) {
		for {
			n, ok := work.take()
			if !ok {
				return
			}
			id := expand(cfg.ClientID, cn, "c", n)
			t0 := time.Now()
			c, err := Dial(opCtx, cfg.Endpoint, tlsConfig)
			if err == nil {
				if err = c.Connect(id); err != nil {
					_ = c.Close()
				}
			}
			if err != nil {
				fails.add("connect", err)
				bar.fail()
				continue
			}
			latency[w].record(time.Since(t0))
			_ = c.Disconnect()
			connects.Add(1)
			bar.add(1)
		}
	})
	end := time.Now()
	bar.finish()

	s.finish(start, end, &fails, work.interrupted())
	s.TLS = cfg.Endpoint.report()
	s.Connects = connects.Load()
	s.Rate = rate(s.Connects, end.Sub(start))
	s.Latency = mergeLatency(latency)
	return s, nil
}
