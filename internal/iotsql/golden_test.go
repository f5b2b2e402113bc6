package iotsql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goldenCase is one case of a testdata/golden file: a "sql" or "template"
// section starts it, then optional "version", "topic", "payload",
// "clientid" sections and a "want" section: the output, "no match", or
// "error: <message>". The text before the first section is a comment.
type goldenCase struct {
	file, kind, src string
	line            int
	sec             map[string]string
}

func readGoldenCases(t testing.TB) []goldenCase {
	t.Helper()
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	var cases []goldenCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cur *goldenCase
		var name string
		var body strings.Builder
		flush := func() {
			if cur != nil && name != "" {
				cur.sec[name] = strings.TrimRight(body.String(), "\n")
			}
			body.Reset()
		}
		for i, line := range strings.SplitAfter(string(data), "\n") {
			tl := strings.TrimRight(line, "\n")
			if strings.HasPrefix(tl, "-- ") && strings.HasSuffix(tl, " --") && len(tl) > 6 {
				flush()
				name = tl[3 : len(tl)-3]
				if name == "sql" || name == "template" {
					if cur != nil {
						cases = append(cases, *cur)
					}
					cur = &goldenCase{file: filepath.Base(f), kind: name, line: i + 1, sec: map[string]string{}}
				}
				continue
			}
			body.WriteString(line)
		}
		flush()
		if cur != nil {
			cases = append(cases, *cur)
		}
	}
	for i := range cases {
		cases[i].src = cases[i].sec[cases[i].kind]
	}
	return cases
}

// goldenInput is the message of a golden case; topic defaults to
// topic/subtopic.
func goldenInput(c goldenCase) Input {
	in := Input{
		Topic:     "topic/subtopic",
		Payload:   []byte(c.sec["payload"]),
		ClientID:  "client-1",
		Principal: "ba67293af50bf2506f5f93469686da660c7c844e7b3950bfb16813e0d31e9373",
		Timestamp: time.UnixMilli(1481825251155),
		NewUUID:   func() string { return "123e4567-e89b-12d3-a456-426614174000" },
	}
	if tp, ok := c.sec["topic"]; ok {
		in.Topic = tp
	}
	if id, ok := c.sec["clientid"]; ok {
		in.ClientID = id
	}
	return in
}

// runGolden evaluates one case and renders the result as a want section.
func runGolden(c goldenCase) string {
	in := goldenInput(c)
	if c.kind == "template" {
		tp, err := ParseTemplate(c.src)
		if err != nil {
			return "error: " + err.Error()
		}
		s, err := tp.Expand(in)
		if err != nil {
			return "error: " + err.Error()
		}
		return s
	}
	st, err := Parse(c.src, c.sec["version"])
	if err != nil {
		return "error: " + err.Error()
	}
	if !st.Matches(in.Topic) {
		return "topic does not match"
	}
	out, matched, err := st.Evaluate(in)
	switch {
	case err != nil:
		return "error: " + err.Error()
	case !matched:
		return "no match"
	}
	return string(out)
}

func TestGolden(t *testing.T) {
	for _, c := range readGoldenCases(t) {
		got := runGolden(c)
		if want := c.sec["want"]; got != want {
			t.Errorf("%s:%d: %s\n got: %s\nwant: %s", c.file, c.line, c.src, got, want)
		}
	}
}
