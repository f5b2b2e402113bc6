// Package iottest holds the helpers every iotcore test shares: waits that
// end with a failure instead of hanging until the global test timeout, and
// the rule that a test needing a program skips without it except in CI,
// where it fails.
package iottest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Timeout bounds every wait of these helpers: generous, for -race on a
// loaded two-core machine, and far below the test binary's timeout, so that
// a wait that never ends names itself.
const Timeout = 30 * time.Second

// Receive returns the next value from ch, or fails the test naming what it
// waited for after Timeout.
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", Timeout, what)
		panic("unreachable")
	}
}

// WaitFor polls cond until it holds, or fails the test after Timeout.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", Timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CI reports whether the tests run in CI (CI=true), where every program a
// test needs is installed and a missing one is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

// NeedProgram runs name with args (such as --version) and returns its
// output. When it cannot run, the test fails in CI and is skipped elsewhere.
func NeedProgram(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		Missing(t, "%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// Missing says a test cannot run here: in CI the test fails, elsewhere it
// is skipped.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format+" (required in CI)", args...)
	}
	t.Skipf(format, args...)
}
