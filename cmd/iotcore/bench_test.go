package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/bench"
)

// TestBenchJITPBinary runs `iotcore bench jitp --setup --json` against
// `iotcore serve`, both the real binary, as a user would: the API reached
// with the data directory's credentials file.
func TestBenchJITPBinary(t *testing.T) {
	bin := buildBinary(t)
	if res := runCLI(t, bin, t.TempDir(), nil, "bench", "--help"); res.code != 0 || !strings.Contains(res.stdout, "Load-test") {
		t.Fatalf("the binary has no `bench` command (exit %d): add root.AddCommand(newBenchCommand()) to newRootCommand in root.go\n%s%s",
			res.code, res.stdout, res.stderr)
	}
	dir := t.TempDir()
	srv := startBinary(t, bin, "--data-dir", dir)
	const devices = 20
	res := mustCLI(t, bin, t.TempDir(), awsEnv(filepath.Join(dir, "credentials")),
		"bench", "jitp", "--setup", "--json",
		"--endpoint", "127.0.0.1:"+srv.mqttPort, "--cafile", filepath.Join(dir, "ca.pem"),
		"--endpoint-url", srv.endpoint, "--region", "us-east-1",
		"--devices", "20", "--concurrency", "4")
	if !strings.Contains(res.stderr, "registered the CA") {
		t.Errorf("stderr does not say what --setup did:\n%s", res.stderr)
	}

	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %d:\n%s", len(lines), res.stdout)
	}
	// The documented field names...
	var fields map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &fields); err != nil {
		t.Fatalf("%v\n%s", err, lines[0])
	}
	for _, name := range []string{"scenario", "endpoint", "elapsed_s", "failed", "failures", "interrupted", "devices", "concurrency",
		"key_type", "prepare_s", "provisioned", "first_connection_accepted", "devices_per_s", "latency_ms", "first_connection_ms"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("the summary has no %q: %s", name, lines[0])
		}
	}
	// ...and values that add up.
	var s bench.JITPSummary
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.Scenario != "jitp" || s.Devices != devices || s.Provisioned != devices || s.Failed != 0 || len(s.Failures) != 0 || s.Interrupted {
		t.Fatalf("summary: %s", lines[0])
	}
	l := s.Latency
	if l.Count != devices || !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || s.Rate <= 0 {
		t.Errorf("latency or rate wrong: %s", lines[0])
	}
	if s.FirstConnection.Count != devices {
		t.Errorf("%d first connections dropped, want %d", s.FirstConnection.Count, devices)
	}
}

// TestBenchFleetBinary runs `iotcore bench fleet --setup --json`, in both
// modes, against `iotcore serve` with its rate limits lifted, both the
// real binary.
func TestBenchFleetBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	srv := startBinary(t, bin, "--data-dir", dir, "--mqtt-connect-rate", "-1", "--mqtt-publish-rate", "-1",
		"--fleet-create-keys-rate", "-1", "--fleet-create-from-csr-rate", "-1", "--fleet-register-thing-rate", "-1")
	const devices = 20
	for _, mode := range []string{"create", "csr"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"bench", "fleet", "--setup", "--json",
				"--endpoint", "127.0.0.1:" + srv.mqttPort, "--cafile", filepath.Join(dir, "ca.pem"),
				"--endpoint-url", srv.endpoint, "--region", "us-east-1",
				"--devices", "20", "--concurrency", "4"}
			if mode == "csr" {
				args = append(args, "--csr")
			}
			res := mustCLI(t, bin, t.TempDir(), awsEnv(filepath.Join(dir, "credentials")), args...)
			if !strings.Contains(res.stderr, "fleet-provisioning template") {
				t.Errorf("stderr does not say what --setup did:\n%s", res.stderr)
			}
			lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
			if len(lines) != 1 {
				t.Fatalf("want one JSON line, got %d:\n%s", len(lines), res.stdout)
			}
			var s bench.FleetSummary
			dec := json.NewDecoder(strings.NewReader(lines[0]))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&s); err != nil {
				t.Fatalf("%v\n%s", err, lines[0])
			}
			if s.Scenario != "fleet" || s.Mode != mode || s.Devices != devices || s.Provisioned != devices || s.Failed != 0 || len(s.Failures) != 0 || s.Interrupted {
				t.Fatalf("summary: %s", lines[0])
			}
			if l := s.Latency; l.Count != devices || !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || s.Rate <= 0 || s.Steps.Register.Count != devices {
				t.Errorf("latency or rate wrong: %s", lines[0])
			}
		})
	}
}

// TestBenchUsage checks that bad flags are refused before anything runs,
// with exit status 2.
func TestBenchUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"jitp without a CA", []string{"jitp", "--endpoint", "127.0.0.1:1"}, "--ca-cert and --ca-key, or --setup"},
		{"jitp with a CA and --setup", []string{"jitp", "--endpoint", "127.0.0.1:1", "--setup", "--ca-cert", "ca.pem"}, "drop --ca-cert"},
		{"jitp with an unknown key type", []string{"jitp", "--endpoint", "127.0.0.1:1", "--key-type", "dsa"}, "key type"},
		{"fleet without a template", []string{"fleet", "--endpoint", "127.0.0.1:1", "--claim-cert", "c.pem", "--claim-key", "k.pem"}, "--template, or --setup"},
		{"fleet without a claim", []string{"fleet", "--endpoint", "127.0.0.1:1", "--template", "t"}, "--claim-cert and --claim-key, or --setup"},
		{"fleet with a template and --setup", []string{"fleet", "--endpoint", "127.0.0.1:1", "--setup", "--template", "t"}, "drop --template"},
		{"fleet with a bad parameter", []string{"fleet", "--endpoint", "127.0.0.1:1", "--template", "t", "--param", "SerialNumber"}, "want name=value"},
		{"fleet with an unknown key type", []string{"fleet", "--endpoint", "127.0.0.1:1", "--csr", "--key-type", "dsa"}, "key type"},
		{"connect without a certificate", []string{"connect", "--endpoint", "127.0.0.1:1"}, "--cert and --key, or --setup"},
		{"pubsub at QoS 2", []string{"pubsub", "--endpoint", "127.0.0.1:1", "--qos", "2"}, "QoS 0 and 1"},
		{"idle with a missing CA file", []string{"idle", "--endpoint", "127.0.0.1:1", "--cafile", "/nonexistent/ca.pem"}, "--cafile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newBenchCommand()
			cmd.SetArgs(tc.args)
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.ExecuteContext(context.Background())
			var usage usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
				t.Errorf("bench %v = %v (exit %d); want a usage error with %q", tc.args, err, exitCode(err), tc.want)
			}
		})
	}
}

// TestBenchNothingWorked: a run in which no operation succeeds prints its
// summary, with the failures by cause, and exits 1 saying so.
func TestBenchNothingWorked(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startBinary(t, bin, "--data-dir", data)
	dir := t.TempDir()
	mustCLI(t, bin, dir, nil, "pki", "ca", "create", "--name", "unknownCA", "--cn", "Unknown CA")
	mustCLI(t, bin, dir, nil, "pki", "device-cert", "--ca", "unknownCA.pem", "--ca-key", "unknownCA.key", "--cn", "stranger")
	res := runCLI(t, bin, dir, nil, "bench", "connect", "--json", "--endpoint", "127.0.0.1:"+srv.mqttPort,
		"--cafile", filepath.Join(data, "ca.pem"), "--cert", "device.crt", "--key", "device.key", "--count", "3", "--concurrency", "1")
	var s bench.ConnectSummary
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.stdout)), &s); err != nil {
		t.Fatalf("no summary (exit %d): %v\n%s%s", res.code, err, res.stdout, res.stderr)
	}
	if res.code != 1 || !strings.Contains(res.stderr, "no connect succeeded") || s.Connects != 0 || s.Failed != 3 {
		t.Fatalf("exit %d, summary %+v\n%s", res.code, s, res.stderr)
	}
}
