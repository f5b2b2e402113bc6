package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// noAWSEnv is the environment of an operator with no AWS settings: the mqtt
// commands then take the data directory's credentials.
func noAWSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "IOTCORE_") {
			env = append(env, kv)
		}
	}
	return env
}

// startSub runs `iotcore mqtt sub` and returns once it has subscribed; wait
// returns what it printed when it exits.
func startSub(t *testing.T, bin string, env []string, args ...string) (wait func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, bin, append([]string{"mqtt", "sub"}, args...)...)
	cmd.Env = env
	var stdout syncBuffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	subscribed := make(chan bool, 1)
	var errOut syncBuffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errOut.Write(append(sc.Bytes(), '\n'))
			if strings.HasPrefix(sc.Text(), "iotcore: subscribed to") {
				subscribed <- true
			}
		}
		close(subscribed)
	}()
	if ok := <-subscribed; !ok {
		_ = cmd.Wait()
		t.Fatalf("iotcore mqtt sub %v did not subscribe:\n%s", args, errOut.String())
	}
	return func() string {
		t.Helper()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("iotcore mqtt sub %v: %v\n%s\n%s", args, err, stdout.String(), errOut.String())
		}
		return stdout.String()
	}
}

// TestMQTTSubPub runs `iotcore mqtt sub` and `iotcore mqtt pub` against the
// real binary over MQTT over WebSocket with SigV4 (the data directory's
// admin credentials): sub receives what pub sends and what a device sends
// with mosquitto_pub over mutual TLS.
func TestMQTTSubPub(t *testing.T) {
	requirePrograms(t, "mosquitto_pub")
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startServe(t, bin, data, "--mqtt-ws-addr", "127.0.0.1:0")
	if srv.wsAddr == "" {
		t.Fatal("iotcore serve did not print its MQTT over WebSocket endpoint")
	}
	env := noAWSEnv()
	conn := []string{"--endpoint", srv.wsAddr, "--data-dir", data}

	wait := startSub(t, bin, env, append(conn, "--format", "json", "--count", "2", "a/#")...)
	pretty := startSub(t, bin, env, append(conn, "--count", "1", "a/b")...)
	events := startSub(t, bin, env, append(conn, "--format", "raw", "--count", "1", "$aws/events/presence/connected/operator")...)
	mustCLI(t, bin, t.TempDir(), env, append([]string{"mqtt", "pub", "--client-id", "operator"}, append(conn, "a/b", `{"x":1}`)...)...)

	// A device with a certificate the server issued, allowed everything.
	certFile, keyFile := allowedDevice(t, srv, t.TempDir())
	_, port, _ := strings.Cut(srv.mqttAddr, ":")
	out, err := exec.Command("mosquitto_pub", "--cafile", filepath.Join(data, "ca.pem"), "-h", "localhost", "-p", port,
		"--cert", certFile, "--key", keyFile, "-i", "DemoThing", "-t", "a/device", "-q", "1", "-m", "Hello").CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub: %v\n%s", err, out)
	}

	var got []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(wait()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("--format json printed %q: %v", line, err)
		}
		if _, err := time.Parse(time.RFC3339, m["time"].(string)); err != nil {
			t.Errorf("time %v: %v", m["time"], err)
		}
		got = append(got, m)
	}
	if len(got) != 2 || got[0]["topic"] != "a/b" || got[0]["payload"] != `{"x":1}` ||
		got[1]["topic"] != "a/device" || got[1]["payload"] != "Hello" {
		t.Errorf("iotcore mqtt sub --format json printed %v", got)
	}
	if p := pretty(); !strings.Contains(p, " a/b\n") || !strings.Contains(p, "\"x\": 1") {
		t.Errorf("iotcore mqtt sub (pretty) printed %q", p)
	}

	// The admin key receives $aws/events/#, and its own connection is an IAM
	// identity: principalIdentifier is the access key id.
	keyID, _ := srv.credentials(t)
	if e := events(); !strings.Contains(e, `"principalIdentifier":"`+keyID+`"`) || !strings.Contains(e, `"clientId":"operator"`) {
		t.Errorf("presence event %q; want principalIdentifier %s", e, keyID)
	}

	// Without credentials, nothing connects; the server refuses at the upgrade.
	res := runCLI(t, bin, t.TempDir(), env, "mqtt", "pub", "--endpoint", srv.wsAddr, "--cafile", filepath.Join(data, "ca.pem"),
		"--data-dir", t.TempDir(), "a/b", "x")
	if res.code == 0 || !strings.Contains(res.stderr, "no credentials") {
		t.Errorf("pub without credentials: exit %d\n%s", res.code, res.stderr)
	}
	wrong := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(wrong, []byte("[default]\naws_access_key_id = AKIAWRONGWRONGWRONG1\naws_secret_access_key = wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, bin, t.TempDir(), append(env, "AWS_SHARED_CREDENTIALS_FILE="+wrong), append([]string{"mqtt", "pub"}, append(conn, "a/b", "x")...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "refused the WebSocket upgrade") {
		t.Errorf("pub with unknown credentials: exit %d\n%s", res.code, res.stderr)
	}
}

// TestMQTTSigV4JSSDK connects the AWS IoT Device SDK v2 for JavaScript
// (aws-crt) to the real binary over MQTT over WebSocket with the SDK's own
// SigV4 signing and the admin credentials: it signs connection;host, sends
// Host without the port, and receives what `iotcore mqtt pub` publishes.
func TestMQTTSigV4JSSDK(t *testing.T) {
	dir := fleetNode(t)
	script, err := os.ReadFile("testdata/sigv4_websocket.js")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sigv4_websocket.js"), script, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startServe(t, bin, data, "--mqtt-ws-addr", "127.0.0.1:0")
	id, secret := srv.credentials(t)
	_, port, _ := strings.Cut(srv.wsAddr, ":")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "sigv4_websocket.js", "localhost", port, filepath.Join(data, "ca.pem"), "sdk/#", "1")
	node.Dir = dir
	node.Env = append(noAWSEnv(), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
	wait := startUntil(t, node, "subscribed")
	mustCLI(t, bin, t.TempDir(), noAWSEnv(), "mqtt", "pub", "--endpoint", srv.wsAddr, "--data-dir", data, "sdk/hello", `{"from":"iotcore mqtt pub"}`)
	out := wait()
	var got struct{ Topic, Payload string }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Topic != "sdk/hello" || got.Payload != `{"from":"iotcore mqtt pub"}` {
		t.Errorf("the SDK received %q (%v)", out, err)
	}
}

// TestMQTTSubPubOverAPI runs `iotcore mqtt sub` and `pub` against the API
// listener's /mqtt (plain HTTP on loopback, SigV4-signed WebSocket), which
// serve offers without --mqtt-ws-addr: what the console's MQTT test client
// uses too.
func TestMQTTSubPubOverAPI(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startServe(t, bin, data)
	if !strings.HasPrefix(srv.endpoint, "http://") {
		t.Fatalf("endpoint %q", srv.endpoint)
	}
	env := noAWSEnv()
	conn := []string{"--endpoint", srv.endpoint, "--data-dir", data}
	wait := startSub(t, bin, env, append(conn, "--format", "raw", "--count", "1", "plant/#")...)
	mustCLI(t, bin, t.TempDir(), env, append([]string{"mqtt", "pub"}, append(conn, "plant/7/temp", "21.5")...)...)
	if got := wait(); !strings.Contains(got, "21.5") {
		t.Errorf("iotcore mqtt sub over the API printed %q", got)
	}
	res := runCLI(t, bin, t.TempDir(), env, "mqtt", "pub", "--endpoint", "ftp://"+strings.TrimPrefix(srv.endpoint, "http://"), "--data-dir", data, "a", "b")
	if res.code == 0 || !strings.Contains(res.stderr, "want http:// or https://") {
		t.Errorf("an ftp:// endpoint: exit %d\n%s", res.code, res.stderr)
	}
}
