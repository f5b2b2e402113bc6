package iotsql

import (
	"go/build"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestImports enforces that the package stays pure: standard library only,
// no logging, no file or network access.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Doc == "" {
		t.Error("package has no doc comment")
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") {
			t.Errorf("imports %s; package iotsql must depend on the standard library only", imp)
		}
		switch imp {
		case "log", "log/slog", "os", "net", "net/http", "io/fs", "os/exec":
			t.Errorf("imports %s; package iotsql must not log or do I/O", imp)
		}
	}
}

// TestNewUUID checks the default newuuid(): a version 4 UUID, different each
// time.
func TestNewUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := newUUID(), newUUID()
	if !re.MatchString(a) || a == b {
		t.Errorf("newUUID() = %q then %q", a, b)
	}
}

// TestConcurrentEvaluate runs one Statement from many goroutines, for the
// race detector.
func TestConcurrentEvaluate(t *testing.T) {
	st, err := Parse("SELECT *, regexp_replace(id, '[0-9]', 'x') AS masked, (SELECT VALUE n FROM e) AS ns FROM 'a/+' WHERE temp > 1", "")
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Topic: "a/b", Payload: []byte(`{"temp": 2, "id": "d42", "e": [{"n": 1}, {"n": 2}]}`)}
	want := `{"temp":2,"id":"d42","e":[{"n":1},{"n":2}],"masked":"dxx","ns":[1,2]}`
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				out, matched, err := st.Evaluate(in)
				if err != nil || !matched || string(out) != want {
					t.Errorf("Evaluate = %s, %v, %v; want %s", out, matched, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
