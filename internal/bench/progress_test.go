package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		total        int64
		length       time.Duration
		done, failed int64
		at           time.Duration
		want         []string
	}{
		{"counted", 200, 0, 100, 0, time.Second, []string{"\rjitp [===============               ]  50%", "100/200 devices", "100/s", "1s", "\x1b[K"}},
		{"counted with failures", 10, 0, 4, 6, 2 * time.Second, []string{"100%", "4/10 devices", "2/s", "6 failed"}},
		{"timed", 0, 10 * time.Second, 5000, 0, 2500 * time.Millisecond, []string{"[=======                       ]  25%", "5000 devices", "2000/s", "2.5s"}},
		{"past its time", 0, time.Second, 1, 0, 3 * time.Second, []string{"100%"}},
		{"open-ended", 0, 0, 7, 0, time.Second, []string{"\rjitp  7 devices  7/s  1s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &progress{label: "jitp", unit: "devices", total: tc.total, length: tc.length, start: start}
			p.done.Store(tc.done)
			p.failed.Store(tc.failed)
			got := p.line(start.Add(tc.at))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("line = %q, want it to hold %q", got, w)
				}
			}
		})
	}
}

func TestProgressOff(t *testing.T) {
	p := startProgress(nil, "jitp", "devices", 10, 0)
	if p != nil {
		t.Fatal("a bar without a terminal")
	}
	p.add(1) // methods on nil do nothing
	p.fail()
	p.finish()
}

func TestProgressFinishErases(t *testing.T) {
	var buf bytes.Buffer
	p := startProgress(&buf, "jitp", "devices", 10, 0)
	p.add(3)
	p.finish()
	if out := buf.String(); !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("output %q does not end by erasing the line", out)
	}
}
