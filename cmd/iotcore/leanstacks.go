package main

import (
	"os"
	"strings"
	"syscall"
)

// leanStacksSetting makes new goroutines start with the smallest stack
// (2 KiB) and grow as they need, instead of at the average size the
// runtime has seen (adaptivestackstart, on by default since Go 1.19).
// After a burst of TLS handshakes, whose goroutines grow large, that
// average makes every new connection's goroutines start at 8 KiB or more,
// and an idle connection keeps them: measured with 5,000 idle mTLS
// connections, 73 KiB of RSS per connection with it, 65 KiB without
// (docs/benchmarks.md, "Idle connections"). The runtime reads it only at
// start, and `//go:debug` does not accept it, so serve sets it by
// executing itself again, once, before anything else runs.
const leanStacksSetting = "adaptivestackstart=0"

// reexecWithLeanStacks replaces the process with itself, GODEBUG carrying
// leanStacksSetting, when it runs `serve` and GODEBUG does not already
// say adaptivestackstart (an operator's own choice wins). It returns only
// when it does not re-execute (or cannot: then the server runs as is).
func reexecWithLeanStacks(args []string) {
	if len(args) < 2 || args[1] != "serve" {
		return
	}
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "adaptivestackstart=") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	if godebug != "" {
		godebug += ","
	}
	env := []string{"GODEBUG=" + godebug + leanStacksSetting}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	_ = syscall.Exec(exe, args, env) // returns only on failure
}
