package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cliResult is what a run of the binary printed, and its exit code.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the iotcore binary with args in dir, with env (nil: the
// test's own), and returns what it printed and its exit code.
func runCLI(t *testing.T, bin, dir string, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("iotcore %v: %v", args, err)
	}
	return res
}

// mustCLI runs the binary and fails the test unless it exits 0.
func mustCLI(t *testing.T, bin, dir string, env []string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, bin, dir, env, args...)
	if res.code != 0 {
		t.Fatalf("iotcore %s: exit %d\n%s%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

// wantFileMode checks a file's permission bits.
func wantFileMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", path, got, want)
	}
}
