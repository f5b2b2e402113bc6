package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/iotcore/iotcore/internal/iottest"
)

// fixture writes functions into a new functions directory: name → file →
// content.
func fixture(t testing.TB, fns map[string]map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, files := range fns {
		for file, content := range files {
			path := filepath.Join(dir, name, file)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func needPython(t *testing.T) { t.Helper(); iottest.NeedProgram(t, "python3", "--version") }
func needNode(t *testing.T)   { t.Helper(); iottest.NeedProgram(t, "node", "--version") }

func needProgramB(b *testing.B, name string) { b.Helper(); iottest.NeedProgram(b, name, "--version") }

// logBuffer collects log records, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// open opens a Local on dir whose log is returned, and closes it at the
// end of the test.
func open(t *testing.T, cfg LocalConfig) (*Local, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	l, err := OpenLocal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l, logs
}

const arnPrefix = "arn:aws:lambda:us-east-1:123456789012:function:"

// invoke calls name with event, failing the test on an error, and
// returns the result decoded.
func invoke(t *testing.T, l *Local, name string, event any) any {
	t.Helper()
	out, err := invokeErr(l, name, event)
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	return out
}

func invokeErr(l *Local, name string, event any) (any, error) {
	in, err := json.Marshal(event)
	if err != nil {
		return nil, err
	}
	out, err := l.Invoke(context.Background(), arnPrefix+name, in)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, errors.New("result " + string(out) + ": " + err.Error())
	}
	return v, nil
}

// functionError returns err's *FunctionError, failing the test without one.
func functionError(t *testing.T, err error) *FunctionError {
	t.Helper()
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v, want a *FunctionError", err)
	}
	return fe
}

// gone reports whether process pid has ended (a zombie has: only its exit
// status is left for its parent to read).
func gone(t *testing.T, pid int) bool {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc to look for processes in")
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) state ...
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && len(stat) > i+2 && stat[i+2] == 'Z'
}

// num returns v, a JSON number, as an int.
func num(t *testing.T, v any) int {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v (%T): want a number", v, v)
	}
	return int(f)
}

// field returns v[key], v a JSON object.
func field(t *testing.T, v any, key string) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v (%T): want an object", v, v)
	}
	return m[key]
}

func TestUnknownFunction(t *testing.T) {
	l, _ := open(t, LocalConfig{Dir: t.TempDir()})
	for _, arn := range []string{arnPrefix + "none", "none", "arn:aws:iot:us-east-1:123456789012:rule/x", ""} {
		if _, err := l.Invoke(context.Background(), arn, nil); !errors.Is(err, ErrNoFunction) {
			t.Errorf("Invoke(%q): %v, want ErrNoFunction", arn, err)
		}
	}
	var nilLocal *Local
	if _, err := nilLocal.Invoke(context.Background(), arnPrefix+"x", nil); !errors.Is(err, ErrNoFunction) {
		t.Errorf("nil Local: %v, want ErrNoFunction", err)
	}
}

// runPython runs python3 -c code and returns its output.
func runPython(code string) ([]byte, error) {
	return exec.Command("python3", "-c", code).CombinedOutput()
}

// decode returns the JSON out decoded.
func decode(t *testing.T, out []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	return v
}

// waitForLines waits until the log holds every one of wants. Standard
// output and error are read by goroutines of their own, so one line seen
// says nothing of another.
func waitForLines(t *testing.T, logs *logBuffer, wants ...string) {
	t.Helper()
	iottest.WaitFor(t, fmt.Sprintf("the function's log lines %q", wants), func() bool {
		s := logs.String()
		for _, want := range wants {
			if !strings.Contains(s, want) {
				return false
			}
		}
		return true
	})
}
