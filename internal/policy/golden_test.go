package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata golden files")

// section is one "-- name --" part of a golden file.
type section struct {
	name string
	body string
}

// goldenFile is a golden file: free text, then sections.
type goldenFile struct {
	comment  string
	sections []section
}

func readGolden(t testing.TB, path string) goldenFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	var cur *section
	var buf strings.Builder
	flush := func() {
		if cur == nil {
			g.comment = buf.String()
		} else {
			cur.body = buf.String()
			g.sections = append(g.sections, *cur)
		}
		buf.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			cur = &section{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])}
			continue
		}
		buf.WriteString(line)
	}
	flush()
	return g
}

func (g goldenFile) get(name string) []string {
	var out []string
	for _, s := range g.sections {
		if s.name == name {
			out = append(out, s.body)
		}
	}
	return out
}

func (g goldenFile) one(t testing.TB, name string) string {
	t.Helper()
	s := g.get(name)
	if len(s) != 1 {
		t.Fatalf("want exactly one %q section, got %d", name, len(s))
	}
	return s[0]
}

// withWant returns the file's text with its want section replaced.
func (g goldenFile) withWant(want string) []byte {
	var b bytes.Buffer
	b.WriteString(g.comment)
	for _, s := range g.sections {
		if s.name == "want" {
			continue
		}
		fmt.Fprintf(&b, "-- %s --\n%s", s.name, s.body)
	}
	fmt.Fprintf(&b, "-- want --\n%s", want)
	return b.Bytes()
}

func goldenFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s", dir)
	}
	return files
}

// renderParse is the golden form of Parse's result: the canonical JSON of
// the document, indented, or "error: " and the message.
func renderParse(doc string) string {
	d, err := Parse(doc)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	raw, err := d.MarshalJSON()
	if err != nil {
		return "marshal error: " + err.Error() + "\n"
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return "indent error: " + err.Error() + "\n"
	}
	b.WriteByte('\n')
	return b.String()
}

// TestParseGolden checks testdata/parse/*.txt: an input section holding a
// policy document (its final newline is not part of it) and a want section
// holding the parsed document or the error. Run with -update to rewrite
// the want sections, then review the diff.
func TestParseGolden(t *testing.T) {
	for _, path := range goldenFiles(t, "parse") {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			g := readGolden(t, path)
			input := strings.TrimSuffix(g.one(t, "input"), "\n")
			got := renderParse(input)
			if *update {
				if err := os.WriteFile(path, g.withWant(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := g.one(t, "want"); got != want {
				t.Errorf("Parse result differs from %s\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// TestDecideGolden checks testdata/decide/*.txt: one or more policy
// sections, an optional vars section (name=value lines; a repeated name
// gives a multi-valued variable), a requests section ("action resource
// [key=v1|v2 ...]" lines, the keys forming the request context) and a want
// section repeating each request with " => DECISION".
func TestDecideGolden(t *testing.T) {
	for _, path := range goldenFiles(t, "decide") {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			g := readGolden(t, path)
			var docs []*Document
			for i, p := range g.get("policy") {
				d, err := Parse(strings.TrimSuffix(p, "\n"))
				if err != nil {
					t.Fatalf("policy %d: %v", i+1, err)
				}
				docs = append(docs, d)
			}
			var vars Variables
			if v := g.get("vars"); len(v) > 0 {
				vars = parseVarLines(t, v[0])
			}
			set := Compile(docs, vars)
			var got strings.Builder
			for _, line := range strings.Split(g.one(t, "requests"), "\n") {
				if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
					continue
				}
				f := strings.Fields(line)
				if len(f) < 2 {
					t.Fatalf("bad request line %q", line)
				}
				var req Variables
				if len(f) > 2 {
					mv := MultiVars{}
					for _, kv := range f[2:] {
						k, v, _ := strings.Cut(kv, "=")
						mv[k] = strings.Split(v, "|")
					}
					req = mv
				}
				d := set.Decide(f[0], f[1], req)
				if e := set.Explain(f[0], f[1], req); e.Decision != d {
					t.Errorf("%s: Decide = %v, Explain = %v", line, d, e.Decision)
				}
				fmt.Fprintf(&got, "%s => %s\n", strings.Join(f, " "), d)
			}
			if *update {
				if err := os.WriteFile(path, g.withWant(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := g.one(t, "want"); got.String() != want {
				t.Errorf("decisions differ from %s\ngot:\n%s\nwant:\n%s", path, got.String(), want)
			}
		})
	}
}

func parseVarLines(t testing.TB, body string) MultiVars {
	t.Helper()
	mv := MultiVars{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("bad vars line %q", line)
		}
		mv[k] = append(mv[k], v)
	}
	return mv
}
