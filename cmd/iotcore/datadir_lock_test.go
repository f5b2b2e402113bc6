package main

import (
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A second `iotcore serve` on a data directory a running server holds
// exits at once, naming the process that holds it, and changes nothing.
func TestSecondServeOnDataDirExits(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	first := startBinary(t, bin, "--data-dir", dataDir)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--data-dir", dataDir,
		"--api-addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0").CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the second serve did not exit: it is serving\n%s", out)
	}
	if err == nil {
		t.Fatalf("the second serve exited 0\n%s", out)
	}
	for _, want := range []string{"data directory in use", "pid " + strconv.Itoa(first.cmd.Process.Pid), "--data-dir"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the second serve's message lacks %q:\n%s", want, out)
		}
	}
	// The first is untouched: it still answers.
	if got := first.endpoint; got == "" {
		t.Fatal("the first server has no endpoint")
	}
	resp, err := http.Get(first.endpoint + "/readyz")
	if err != nil {
		t.Fatalf("the first server's /readyz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the first server's /readyz: %s", resp.Status)
	}
}
