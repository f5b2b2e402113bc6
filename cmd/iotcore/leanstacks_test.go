package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// serve runs with small initial goroutine stacks: it executes itself again
// with GODEBUG=adaptivestackstart=0 (same process, same PID), keeping the
// operator's other GODEBUG settings, and leaves an explicit choice alone.
func TestServeRunsWithLeanStacks(t *testing.T) {
	bin := buildBinary(t)
	environ := func(p *serveProcess) string {
		t.Helper()
		data, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/environ")
		if err != nil {
			t.Fatalf("reading the server's environment: %v", err)
		}
		for _, kv := range strings.Split(string(data), "\x00") {
			if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
				return v
			}
		}
		return ""
	}
	t.Setenv("GODEBUG", "http2debug=0")
	p := startServe(t, bin, t.TempDir())
	if got := environ(p); got != "http2debug=0,adaptivestackstart=0" {
		t.Errorf("serve's GODEBUG = %q, want the operator's setting and adaptivestackstart=0", got)
	}
	t.Setenv("GODEBUG", "adaptivestackstart=1")
	p = startServe(t, bin, t.TempDir())
	if got := environ(p); got != "adaptivestackstart=1" {
		t.Errorf("serve's GODEBUG = %q, want the operator's adaptivestackstart=1 kept", got)
	}
}
