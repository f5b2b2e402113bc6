package fleetindex

import (
	"bufio"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/iot"
)

var update = flag.Bool("update", false, "rewrite the answers in testdata/parse.txt")

const goldenPath = "testdata/parse.txt"

// goldenQueries returns the query lines of the golden file.
func goldenQueries(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "=> ") || strings.HasPrefix(line, "!! ") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// answer is the golden answer line for a query.
func answer(query string) string {
	q, err := Parse(query)
	if err != nil {
		return "!! " + err.(*iot.Error).Message
	}
	return "=> " + q.String()
}

func TestParseGolden(t *testing.T) {
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	var query string
	pending := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=> ") || strings.HasPrefix(line, "!! "):
			if !pending {
				t.Fatalf("answer %q follows no query", line)
			}
			pending = false
			want := answer(query)
			if *update {
				line = want
			} else if line != want {
				t.Errorf("Parse(%q)\n got %s\nwant %s", query, want, line)
			}
		case line == "" || strings.HasPrefix(line, "#"):
			if pending && *update {
				out.WriteString(answer(query) + "\n")
			} else if pending {
				t.Errorf("query %q has no answer line", query)
			}
			pending = false
		default:
			if pending && *update {
				out.WriteString(answer(query) + "\n")
			} else if pending {
				t.Errorf("query %q has no answer line", query)
			}
			query, pending = line, true
		}
		out.WriteString(line + "\n")
	}
	if pending {
		if *update {
			out.WriteString(answer(query) + "\n")
		} else {
			t.Errorf("query %q has no answer line", query)
		}
	}
	if *update {
		if err := os.WriteFile(goldenPath, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
