package mochi

import (
	"context"
	"log/slog"
	"time"
)

// Device log lines (refusals, denials, kicks) are rate-limited: a device
// retrying a forbidden publish in a loop must not flood the log. A token
// bucket of deviceLogBurst lines refilled at deviceLogRate per second; the
// next line let through says how many were suppressed.
const (
	deviceLogRate  = 20
	deviceLogBurst = 100
)

// deviceLog logs, at Info and rate-limited, something a device caused.
func (b *Broker) deviceLog(msg string, args ...any) {
	ok, suppressed := b.logLimit.Allow(time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed_before", suppressed)
	}
	b.log.Info(msg, args...)
}

// truncate shortens s, from a device, to at most n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// debugHandler logs every record at Debug. mochi logs per-packet events
// (every denied publish, at Error) and its own start-up chatter: our hook
// logs what matters, so mochi's lines are for debugging only.
type debugHandler struct{ h slog.Handler }

func (d debugHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.h.Enabled(ctx, slog.LevelDebug)
}

func (d debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return d.h.Handle(ctx, r)
}

func (d debugHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return debugHandler{d.h.WithAttrs(attrs)}
}

func (d debugHandler) WithGroup(name string) slog.Handler {
	return debugHandler{d.h.WithGroup(name)}
}
