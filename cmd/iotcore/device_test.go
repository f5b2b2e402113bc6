package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDeviceRun drives `iotcore device run` against the real binary: through
// a JITP first-connection drop to a publish it receives back, then the exit
// codes of a refused client id and of a certificate nobody accepts.
func TestDeviceRun(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startBinary(t, bin, "--data-dir", data, "--region", "us-east-2")
	dir := t.TempDir()
	env := awsEnv(filepath.Join(data, "credentials"))
	cli := func(args ...string) cliResult { t.Helper(); return mustCLI(t, bin, dir, env, args...) }
	template, err := filepath.Abs("../../examples/jitp_template.json")
	if err != nil {
		t.Fatal(err)
	}
	cli("pki", "ca", "create", "--name", "root", "--c", "IN", "--o", "AMZ")
	cli("ca", "register", "--endpoint-url", srv.endpoint, "--region", "us-east-2", "--ca-cert", "root.pem", "--ca-key", "root.key", "--template-file", template)
	cli("pki", "device-cert", "--ca", "root.pem", "--ca-key", "root.key", "--cn", "DemoThing", "--c", "IN")
	cli("pki", "ca", "create", "--name", "unregistered", "--cn", "Unregistered CA")
	cli("pki", "device-cert", "--ca", "unregistered.pem", "--ca-key", "unregistered.key", "--cn", "stranger", "--name", "stranger")

	device := []string{"device", "run", "--endpoint", "localhost:" + srv.mqttPort, "--cafile", filepath.Join(data, "ca.pem"), "--retry-delay", "50ms"}
	run := func(args ...string) cliResult {
		t.Helper()
		return runCLI(t, bin, dir, env, append(device, args...)...)
	}

	res := run("--cert", "device-chain.crt", "--key", "device.key", "--subscribe", "DemoThing/#", "--publish", "DemoThing/test",
		"--message", "Hello", "--count", "2", "--interval", "0s")
	t.Logf("device run:\n%s", res.stderr)
	if res.code != 0 {
		t.Fatalf("device run: exit %d\n%s", res.code, res.stderr)
	}
	if res.stdout != "DemoThing/test Hello\nDemoThing/test Hello\n" {
		t.Errorf("stdout %q, want the two messages", res.stdout)
	}
	for _, want := range []string{
		"connection dropped before CONNACK: on AWS IoT and iotcore this is what a device's first just-in-time-provisioning connection does",
		"retrying in 50ms", `as client id "DemoThing" (attempt 2 of 5)`, "connected: CONNACK success", "published message 2 of 2", "disconnected",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"another client id", []string{"--cert", "device.crt", "--key", "device.key", "--client-id", "someoneElse"}, 4, `iot:Connect for client id "someoneElse"`},
		{"publish outside the policy", []string{"--cert", "device.crt", "--key", "device.key", "--publish", "elsewhere/x"}, 4, "PUBACK not authorized (0x87) for elsewhere/x"},
		{"unregistered CA", []string{"--cert", "stranger-chain.crt", "--key", "stranger.key", "--attempts", "2"}, 3, "gave up after 2 attempts: connection dropped before CONNACK again"},
		{"wrong key", []string{"--cert", "device.crt", "--key", "stranger.key"}, 1, "stranger.key is not the key of"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(tt.args...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q?\n%s", res.code, tt.code, tt.want, res.stderr)
			}
		})
	}
}
