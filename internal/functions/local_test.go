package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iottest"
)

// fixture writes functions into a new functions directory: name → file →
// content.
func fixture(t *testing.T, fns map[string]map[string]string) string {
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

func TestPythonSmoke(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{
		"hello": {"lambda_function.py": `
import os
n = 0
def lambda_handler(event, context):
    global n
    n += 1
    print("hello", event.get("name"))
    return {"n": n, "name": event.get("name"), "fn": context.function_name}
`},
	})
	l, logs := open(t, LocalConfig{Dir: dir})
	start := time.Now()
	got := invoke(t, l, "hello", map[string]any{"name": "x"})
	t.Logf("cold %v: %v", time.Since(start), got)
	start = time.Now()
	got = invoke(t, l, "hello", map[string]any{"name": "y"})
	t.Logf("warm %v: %v", time.Since(start), got)
	t.Log(logs.String())
	_ = strings.Contains
}
