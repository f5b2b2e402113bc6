package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickstart runs examples/quickstart.sh, seed 000 with iotcore pki, the
// aws CLI and mosquitto, with the binary under test. It fails in CI, and
// skips elsewhere, when a program the script needs is missing.
func TestQuickstart(t *testing.T) {
	requirePrograms(t, "bash", "aws", "mosquitto_pub", "mosquitto_sub")
	bin := buildBinary(t)
	script, err := filepath.Abs("../../examples/quickstart.sh")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "IOTCORE="+bin, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "quickstart passed") {
		t.Fatalf("quickstart.sh exited 0 without passing:\n%s", out)
	}
	t.Logf("%s", out)
}
