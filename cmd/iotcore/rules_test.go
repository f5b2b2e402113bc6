package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/iottest"
)

// jitrFunctions is the example's functions directory: the walkthrough's
// activation function in Python (boto3) and in Node (@aws-sdk/client-iot).
const jitrFunctions = "../../examples/jitr-rule/functions"

// TestSeed003JITRByRule runs seed 003 to its end as AWS's walkthrough does
// it: the rule from the walkthrough's JSON, created with the aws CLI, calls
// a function from --functions-dir that activates the certificate and
// attaches a policy with an AWS SDK; the device's first connection is
// dropped and a later one publishes. Once with the Python function
// (boto3), once with the Node one (the AWS SDK for JavaScript v3 from npm).
func TestSeed003JITRByRule(t *testing.T) {
	requirePrograms(t, "openssl", "mosquitto_pub", "aws")
	bin := buildBinary(t)
	script, err := filepath.Abs("testdata/seed003_jitr_rule.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"jitr-activate-python", "jitr-activate-node"} {
		t.Run(fn, func(t *testing.T) {
			functions := t.TempDir()
			copyFunction(t, filepath.Join(jitrFunctions, fn), filepath.Join(functions, fn))
			if strings.HasSuffix(fn, "-node") {
				npmCI(t, filepath.Join(functions, fn))
			} else {
				iottest.NeedProgram(t, "python3", "-c", "import boto3")
			}
			dir := t.TempDir()
			const account, region = "111122223333", "us-east-1"
			srv := startBinary(t, bin, "--data-dir", dir, "--account-id", account, "--region", region, "--functions-dir", functions,
				"--function-timeout", "30s") // a cold start of the SDK on a loaded CI machine
			runSeedScript(t, script, awsCLIs(t)[0], srv.endpoint, filepath.Join(dir, "credentials"), account,
				"REGION="+region, "MQTT_HOST=localhost", "MQTT_PORT="+srv.mqttPort, "ROOT_CA="+filepath.Join(dir, "ca.pem"), "FUNCTION="+fn)
			// The function's own output is in the server's log, with its name and the rule that called it.
			iottest.WaitFor(t, "the function's output logged", func() bool {
				log := srv.stderr.String()
				return strings.Contains(log, "activated ") && strings.Contains(log, fn) && strings.Contains(log, "rule JITRActivation")
			})
		})
	}
}

// copyFunction copies a function's files (not its node_modules).
func copyFunction(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// npmCI installs a directory's package-lock.json; without node and npm (or
// the registry) the test fails in CI and is skipped elsewhere.
func npmCI(t *testing.T, dir string) {
	t.Helper()
	iottest.NeedProgram(t, "node", "--version")
	iottest.NeedProgram(t, "npm", "--version")
	ctx, cancel := context.WithTimeout(t.Context(), fleetNPMWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		iottest.Missing(t, "npm ci (is the npm registry reachable?): %v\n%s", err, out)
	}
}
