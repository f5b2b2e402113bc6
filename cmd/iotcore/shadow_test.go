package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShadowWithJSSDKAndAWSCLI runs the shadow flow of a device on the AWS
// IoT Device SDK v2 for JavaScript's iotshadow client against the real
// binary, unchanged: get of a new shadow (404), reported state, a desired
// change made with `aws iot-data update-thing-shadow` arriving as a delta,
// a named shadow, and a delete.
func TestShadowWithJSSDKAndAWSCLI(t *testing.T) {
	cli := awsCLIs(t)[0]
	dir := fleetNode(t)
	script, err := os.ReadFile("testdata/shadow_sdk.js")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shadow_sdk.js"), script, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startServe(t, bin, data)
	certFile, keyFile := allowedDevice(t, srv, dir)

	runCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, port, _ := strings.Cut(srv.mqttAddr, ":")
	node := exec.CommandContext(runCtx, "node", "shadow_sdk.js", "localhost", port, filepath.Join(data, "ca.pem"), certFile, keyFile, "lamp")
	node.Dir = dir
	wait := startUntil(t, node, "waiting for delta")
	desired := filepath.Join(t.TempDir(), "desired.json")
	if err := os.WriteFile(desired, []byte(`{"state":{"desired":{"on":true}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	id, secret := srv.credentials(t)
	aws := exec.CommandContext(runCtx, cli, "--region", "us-east-1", "--endpoint-url", srv.endpoint, "iot-data", "update-thing-shadow",
		"--thing-name", "lamp", "--payload", "fileb://"+desired, filepath.Join(t.TempDir(), "out.json"))
	aws.Env = append(noAWSEnv(), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
	if out, err := aws.CombinedOutput(); err != nil {
		t.Fatalf("aws iot-data update-thing-shadow: %v\n%s", err, out)
	}
	steps := map[string]json.RawMessage{}
	for line := range strings.SplitSeq(strings.TrimSpace(wait()), "\n") {
		var s struct {
			Step  string
			Value json.RawMessage
		}
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("the SDK printed %q: %v", line, err)
		}
		steps[s.Step] = s.Value
	}
	for step, want := range map[string]string{
		"get-new":         `{"code":404,"clientToken":"get-1"}`,
		"update-reported": `{"version":1,"reported":{"brightness":10,"on":false},"clientToken":"up-1"}`,
		"delta":           `{"version":2,"state":{"on":true}}`,
		"get":             `{"version":3,"desired":{"on":true},"reported":{"brightness":10,"on":true},"delta":null}`,
		"named":           `{"version":1,"reported":{"interval":30}}`,
		"delete":          `{"version":3,"getAfter":404}`,
	} {
		if got := string(steps[step]); got != want {
			t.Errorf("step %s: the SDK saw %s, want %s", step, got, want)
		}
	}
	if _, ok := steps["update-rejected"]; ok {
		t.Errorf("an update was rejected: %s", steps["update-rejected"])
	}
}
