package awsapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iotcore/iotcore/internal/awsapi"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// records returns the JSON records written so far, and forgets them.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(&s.b)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	s.b.Reset()
	return out
}

// TestRefusalLogRateLimited checks that refused requests are logged and
// audited at a bounded rate, with their paths truncated (issue 11 item 11:
// 54,579 refused requests in 10 s wrote 126 MB of log; a 900 KB path, 900 KB
// of log).
func TestRefusalLogRateLimited(t *testing.T) {
	var logBuf, auditBuf syncBuffer
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	api, _ := newAPI(t, func(s *awsapi.Server) {
		s.Logger = slog.New(slog.NewJSONHandler(&logBuf, nil))
		s.Audit = slog.New(slog.NewJSONHandler(&auditBuf, nil))
		s.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}
	})
	longPath := "/things/" + strings.Repeat("a", 9000)
	const flood = 1000

	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			r := httptest.NewRequest("GET", longPath, nil)
			if i%2 == 1 {
				r = signed{target: longPath, keyID: "AKIDUNKNOWN"}.request(t)
			}
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			if w.Code != 403 {
				t.Errorf("status %d, want 403", w.Code)
			}
		})
	}
	wg.Wait()

	const burst = 100 // refusalLogBurst
	logs, audits := logBuf.records(t), auditBuf.records(t)
	if len(logs) != burst || len(audits) != burst {
		t.Fatalf("%d refused requests wrote %d log lines and %d audit records, want %d of each", flood, len(logs), len(audits), burst)
	}
	for _, recs := range [][]map[string]any{logs, audits} {
		for _, rec := range recs {
			path, _ := rec["path"].(string)
			if len(path) > 300 || !strings.HasSuffix(path, "…[truncated, 9008 bytes]") {
				t.Fatalf("logged path of %d bytes ends %q, want it cut to 256 bytes and marked", len(path), path[max(0, len(path)-40):])
			}
			if code := rec["error_code"]; code != "MissingAuthenticationTokenException" && code != "UnrecognizedClientException" {
				t.Errorf("error_code = %v", code)
			}
			if rec["request_id"] == "" || rec["remote_addr"] == "" {
				t.Errorf("record without request_id or remote_addr: %v", rec)
			}
		}
	}
	if msg := logs[0]["msg"]; msg != "api request refused" {
		t.Errorf("log msg = %v", msg)
	}
	if msg := audits[0]["msg"]; msg != "control-plane request refused" {
		t.Errorf("audit msg = %v", msg)
	}
	if n := len(logs[0]["error"].(string)); n > 1100 {
		t.Errorf("logged error of %d bytes", n)
	}

	// A second later one more line is let through, and it counts the rest.
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	for range 2 {
		api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/things", nil))
	}
	logs, audits = logBuf.records(t), auditBuf.records(t)
	if len(logs) != 1 || len(audits) != 1 {
		t.Fatalf("a second later: %d log lines, %d audit records, want 1 of each", len(logs), len(audits))
	}
	for _, rec := range []map[string]any{logs[0], audits[0]} {
		if got := rec["suppressed_before"]; got != float64(flood-burst) {
			t.Errorf("suppressed_before = %v, want %d", got, flood-burst)
		}
	}
}

// TestLoggedValuesTruncated checks that a signed request's log line, audit
// record and answer do not carry a path or a name of any length.
func TestLoggedValuesTruncated(t *testing.T) {
	var logBuf, auditBuf syncBuffer
	api, _ := newAPI(t, func(s *awsapi.Server) {
		s.Logger = slog.New(slog.NewJSONHandler(&logBuf, nil))
		s.Audit = slog.New(slog.NewJSONHandler(&auditBuf, nil))
	})
	path := "/unknown/" + strings.Repeat("%C3%A9", 1000) // é: the cut must fall between runes
	got := serve(t, api, signed{target: path}.request(t))
	if got.Code != "UnknownOperationException" || len(got.Message) > 1024 {
		t.Fatalf("answer %s with a message of %d bytes", got.Code, len(got.Message))
	}
	logs := logBuf.records(t)
	if len(logs) != 1 {
		t.Fatalf("%d log lines, want 1", len(logs))
	}
	if p := logs[0]["path"].(string); len(p) > 300 || !utf8.ValidString(p) || !strings.Contains(p, "é…[truncated, 2009 bytes]") {
		t.Errorf("logged path %q", p)
	}

	long := strings.Repeat("t", 5000)
	serve(t, api, signed{method: "PUT", target: "/thing-groups/addThingToThingGroup?q=" + long,
		body: `{"thingGroupName":"g","thingName":"` + long + `"}`}.request(t))
	serve(t, api, signed{method: "POST", target: "/things/" + long, body: `{}`}.request(t))
	audits := auditBuf.records(t)
	if len(audits) != 2 {
		t.Fatalf("%d audit records, want 2", len(audits))
	}
	for _, v := range []any{audits[0]["query"], audits[0]["thingName"], audits[1]["resource"].(map[string]any)["thingName"]} {
		if s, _ := v.(string); len(s) > 300 || !strings.HasSuffix(s, " bytes]") {
			t.Errorf("audited value of %d bytes, want it cut to 256 and marked", len(s))
		}
	}
}
