package awsapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"
)

// Refused requests — no signature, an unknown key, a bad signature, a
// service iotcore does not serve, a body that does not fit — cost their
// sender nothing, so a flood of them must not fill the disk (issue 11: 54,579
// in 10 s wrote 126 MB of log). Their log and audit lines are rate-limited
// together as the MQTT side limits device lines: a token bucket lets
// refusalLogBurst lines through at once, then refusalLogRate a second, and
// the next line let through says how many were suppressed before it. The
// rate is lower than the MQTT side's 20 a second because anyone can cause a
// refusal: at one a second, a day-long flood writes under 100 MB of log and
// audit together. The request metrics still count every refusal.
const (
	refusalLogRate  = 1
	refusalLogBurst = 100
)

// Logged values a client controls are cut to these many bytes: a 900 KB path
// must not become 900 KB of log. An error (a signature mismatch quotes the
// canonical request, for the operator's own clients) keeps more.
const (
	maxLoggedValue = 256
	maxLoggedError = 1024
)

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// logRefusal writes one line to the log and one record to the audit log for
// a refused request, unless the rate limit suppresses both.
func (s *Server) logRefusal(hr *http.Request, reqID string, status int, code string, err error, d time.Duration) {
	if s.Logger == nil && s.Audit == nil {
		return
	}
	ok, suppressed := s.refusals.Allow(s.now())
	if !ok {
		return
	}
	attrs := []any{
		slog.String("method", clip(hr.Method)),
		slog.String("path", clip(hr.URL.Path)),
		slog.Int("status", status),
		slog.String("error_code", code),
		slog.String("request_id", reqID),
		slog.String("remote_addr", clip(hr.RemoteAddr)),
	}
	if ua := hr.UserAgent(); ua != "" {
		attrs = append(attrs, slog.String("user_agent", clip(ua)))
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int64("suppressed_before", suppressed))
	}
	if s.Audit != nil {
		s.Audit.Info("control-plane request refused", attrs...)
	}
	if s.Logger != nil {
		attrs = append(attrs, slog.Float64("duration_ms", float64(d.Microseconds())/1000))
		if err != nil {
			attrs = append(attrs, slog.String("error", clipError(err.Error())))
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		s.Logger.Log(hr.Context(), level, "api request refused", attrs...)
	}
}

// clip cuts a value a client controls to maxLoggedValue bytes, on a rune
// boundary, and says how long it was.
func clip(v string) string { return clipTo(v, maxLoggedValue) }

// clipError cuts an error's text to maxLoggedError bytes.
func clipError(v string) string { return clipTo(v, maxLoggedError) }

func clipTo(v string, n int) string {
	if len(v) <= n {
		return v
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…[truncated, %d bytes]", v[:cut], len(v))
}
