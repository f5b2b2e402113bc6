package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iottest"
)

// buildBinary compiles iotcore once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "iotcore")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runningServer is the real binary, serving on loopback.
type runningServer struct {
	cmd      *exec.Cmd
	endpoint string // the API URL
	mqttPort string
	done     chan error
	stderr   *syncBuffer // the server's log
	stdout   *syncBuffer
}

// syncBuffer collects a process's output for the test to read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	endpointLine = regexp.MustCompile(`--endpoint-url (https?://\S+)`)
	mqttLine     = regexp.MustCompile(`--mqtt-addr \S+:(\d+),`)
	wsLine       = regexp.MustCompile(`wss://(\S+)/mqtt`)
)

// startBinary runs `iotcore serve` and waits until it prints its endpoint.
func startBinary(t *testing.T, bin string, args ...string) *runningServer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--api-addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rs := &runningServer{cmd: cmd, done: make(chan error, 1), stderr: stderr, stdout: &syncBuffer{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			rs.stdout.Write(append(sc.Bytes(), '\n'))
			if m := mqttLine.FindStringSubmatch(sc.Text()); m != nil {
				rs.mqttPort = m[1] // written before the endpoint is sent: read after receiving it
			}
			if m := endpointLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		rs.done <- cmd.Wait()
	}()
	select {
	case rs.endpoint = <-found:
	case err := <-rs.done:
		t.Fatalf("iotcore serve exited: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("iotcore serve printed no endpoint in 60s\n%s", stderr.String())
	}
	t.Cleanup(func() { rs.stop(t) })
	return rs
}

// stop sends SIGTERM and waits for a clean exit.
func (rs *runningServer) stop(t *testing.T) {
	t.Helper()
	if rs.cmd.ProcessState != nil {
		return
	}
	_ = rs.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-rs.done:
		if err != nil {
			t.Errorf("iotcore serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		_ = rs.cmd.Process.Kill()
		t.Error("iotcore serve did not stop within 30s of SIGTERM")
	}
}

// awsCLIs returns the aws CLIs to test: v1 from PATH, and Debian's v2.
func awsCLIs(t *testing.T) []string {
	var clis []string
	if p, err := exec.LookPath("aws"); err == nil {
		clis = append(clis, p)
	} else if iottest.CI() {
		t.Fatal("the aws CLI is required in CI")
	}
	const debian = "/usr/bin/aws"
	if _, err := os.Stat(debian); err == nil {
		if len(clis) == 0 || !sameFile(clis[0], debian) {
			clis = append(clis, debian)
		}
	} else if iottest.CI() {
		t.Fatalf("Debian's awscli (v2, %s) is required in CI", debian)
	}
	if len(clis) == 0 {
		iottest.Missing(t, "no aws CLI installed")
	}
	return clis
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// TestSeedFlowsWithAWSCLI runs the control-plane steps of the seeds with the
// real aws CLI and openssl against the real binary, then restarts it and
// checks that the data directory is reused.
func TestSeedFlowsWithAWSCLI(t *testing.T) {
	requirePrograms(t, "openssl")
	clis := awsCLIs(t)
	bin := buildBinary(t)
	dataDir := t.TempDir()
	const account = "111122223333"
	srv := startBinary(t, bin, "--data-dir", dataDir, "--account-id", account)
	credPath := filepath.Join(dataDir, "credentials")
	st, err := os.Stat(credPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v; want 0600", err, st.Mode())
	}
	for _, name := range []string{"ca.key", "server.key", "service-ca.key"} {
		if st, err := os.Stat(filepath.Join(dataDir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v; want mode 0600", name, err)
		}
	}
	script, err := filepath.Abs("testdata/seed_ca_registration.sh")
	if err != nil {
		t.Fatal(err)
	}
	for i, cli := range clis {
		t.Run(filepath.Base(filepath.Dir(cli))+"-aws", func(t *testing.T) {
			if i > 0 {
				// Each run registers the same kind of resources: start from a clean server.
				dir := t.TempDir()
				srv := startBinary(t, bin, "--data-dir", dir, "--account-id", account)
				runSeedScript(t, script, cli, srv.endpoint, filepath.Join(dir, "credentials"), account)
				return
			}
			runSeedScript(t, script, cli, srv.endpoint, credPath, account)
		})
	}

	// A restart reuses the credentials, the CAs and the database.
	before, err := os.ReadFile(filepath.Join(dataDir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	srv.stop(t)
	// The server's output (not a terminal) never holds the secret key, though
	// the API was used, errors included (wrong registration code, revoked).
	creds, err := os.ReadFile(credPath)
	if err != nil {
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`aws_secret_access_key = (\S+)`).FindSubmatch(creds)
	if secret == nil {
		t.Fatalf("no secret in %s", credPath)
	}
	for name, out := range map[string]string{"stdout": srv.stdout.String(), "log": srv.stderr.String()} {
		if strings.Contains(out, string(secret[1])) {
			t.Fatalf("the server's %s holds the secret access key", name)
		}
		if !strings.Contains(out, "iotcore") {
			t.Fatalf("the server's %s is empty: the check above proves nothing", name)
		}
	}
	srv = startBinary(t, bin, "--data-dir", dataDir, "--account-id", account)
	after, _ := os.ReadFile(filepath.Join(dataDir, "ca.pem"))
	if !bytes.Equal(before, after) {
		t.Fatal("the root CA changed across a restart")
	}
	out := awsCommand(t, clis[0], srv.endpoint, credPath, "iot", "list-things")
	if !bytes.Contains(out, []byte("DemoThing")) {
		t.Fatalf("after restart, list-things = %s", out)
	}
}

func runSeedScript(t *testing.T, script, cli, endpoint, credPath, account string, extraEnv ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(awsEnv(credPath), "AWS="+cli, "ENDPOINT="+endpoint, "ACCOUNT_ID="+account), extraEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s with %s: %v\n%s", filepath.Base(script), cli, err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// awsEnv is the environment of a user who has only iotcore's credentials file.
func awsEnv(credPath string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_SHARED_CREDENTIALS_FILE="+credPath,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_PAGER=",
	)
}

func awsCommand(t *testing.T, cli, endpoint, credPath string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(cli, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	cmd.Env = awsEnv(credPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %v: %v\n%s", args, err, out)
	}
	return out
}

// requirePrograms fails in CI, and skips elsewhere, when a program is missing.
func requirePrograms(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			iottest.Missing(t, "%s not installed", n)
		}
	}
}

// TestSeed000JITP runs seed 000 as written: openssl, the aws CLI and
// mosquitto_pub with the device+CA chain against the real binary.
func TestSeed000JITP(t *testing.T) {
	requirePrograms(t, "openssl", "mosquitto_pub", "mosquitto_sub", "aws")
	bin := buildBinary(t)
	dir := t.TempDir()
	const account = "111122223333"
	// The seed's policy names us-east-2, the region its reader works in.
	srv := startBinary(t, bin, "--data-dir", dir, "--account-id", account, "--region", "us-east-2")
	script, err := filepath.Abs("testdata/seed000_jitp.sh")
	if err != nil {
		t.Fatal(err)
	}
	runSeedScript(t, script, awsCLIs(t)[0], srv.endpoint, filepath.Join(dir, "credentials"), account,
		"MQTT_HOST=localhost", "MQTT_PORT="+srv.mqttPort, "ROOT_CA="+filepath.Join(dir, "ca.pem"))
}

// TestSeed003JITR runs seed 003's JITR flow: registration event, activation by
// the aws CLI, a Python paho device, and revocation of its live connection.
func TestSeed003JITR(t *testing.T) {
	requirePrograms(t, "openssl", "mosquitto_pub", "mosquitto_sub", "aws")
	iottest.NeedProgram(t, "/usr/bin/python3", "-c", "import paho.mqtt.client") // Debian's python3-paho-mqtt
	bin := buildBinary(t)
	dir := t.TempDir()
	const account, region = "111122223333", "us-east-1"
	srv := startBinary(t, bin, "--data-dir", dir, "--account-id", account, "--region", region)
	script, err := filepath.Abs("testdata/seed003_jitr.sh")
	if err != nil {
		t.Fatal(err)
	}
	device, err := filepath.Abs("testdata/paho_device.py")
	if err != nil {
		t.Fatal(err)
	}
	runSeedScript(t, script, awsCLIs(t)[0], srv.endpoint, filepath.Join(dir, "credentials"), account,
		"REGION="+region, "MQTT_HOST=localhost", "MQTT_PORT="+srv.mqttPort, "ROOT_CA="+filepath.Join(dir, "ca.pem"), "DEVICE_PY="+device)
}

// TestSeed001DeviceSDK runs seed 001 with the AWS IoT Device SDK's MQTT
// client (Debian's python3-awscrt) as the device.
func TestSeed001DeviceSDK(t *testing.T) {
	requirePrograms(t, "openssl", "aws")
	iottest.NeedProgram(t, "/usr/bin/python3", "-c", "import awscrt.mqtt") // Debian's python3-awscrt
	bin := buildBinary(t)
	dir := t.TempDir()
	const account, region = "111122223333", "ap-south-1"
	srv := startBinary(t, bin, "--data-dir", dir, "--account-id", account, "--region", region)
	script, err := filepath.Abs("testdata/seed001_crt.sh")
	if err != nil {
		t.Fatal(err)
	}
	client, err := filepath.Abs("testdata/crt_pubsub.py")
	if err != nil {
		t.Fatal(err)
	}
	runSeedScript(t, script, awsCLIs(t)[0], srv.endpoint, filepath.Join(dir, "credentials"), account,
		"REGION="+region, "MQTT_HOST=localhost", "MQTT_PORT="+srv.mqttPort, "ROOT_CA="+filepath.Join(dir, "ca.pem"), "CRT_PY="+client)
}

// TestProvisioningTemplateWithAWSCLI saves a provisioning template from a file
// with the real aws CLI (`--template-body file://...`, as users write it),
// reads it back, and checks that a broken one is refused with the place of
// the error.
func TestProvisioningTemplateWithAWSCLI(t *testing.T) {
	clis := awsCLIs(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	const account = "111122223333"
	srv := startBinary(t, bin, "--data-dir", dir, "--account-id", account)
	credPath := filepath.Join(dir, "credentials")
	const body = `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},` +
		`"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}}},` +
		`"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}}}}`
	good := filepath.Join(t.TempDir(), "template.json")
	broken := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(good, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte(strings.Replace(body, `{"Ref":"AWS::IoT::Certificate::CommonName"}`, `{"Ref":"CommonName"}`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, cli := range clis {
		t.Run(filepath.Base(filepath.Dir(cli))+"-aws", func(t *testing.T) {
			name := fmt.Sprintf("jitp-%d", i)
			args := []string{"iot", "create-provisioning-template", "--template-name", name, "--type", "JITP", "--enabled",
				"--provisioning-role-arn", "arn:aws:iam::" + account + ":role/JITPRole"}
			var created struct {
				TemplateArn      string `json:"templateArn"`
				DefaultVersionID int    `json:"defaultVersionId"`
			}
			out := awsCommand(t, cli, srv.endpoint, credPath, append(args, "--template-body", "file://"+good)...)
			if err := json.Unmarshal(out, &created); err != nil {
				t.Fatalf("create-provisioning-template printed %s: %v", out, err)
			}
			if created.TemplateArn != "arn:aws:iot:us-east-1:"+account+":provisioningtemplate/"+name || created.DefaultVersionID != 1 {
				t.Fatalf("create-provisioning-template = %s", out)
			}
			var described struct {
				TemplateBody string `json:"templateBody"`
				Type         string `json:"type"`
				Enabled      bool   `json:"enabled"`
			}
			out = awsCommand(t, cli, srv.endpoint, credPath, "iot", "describe-provisioning-template", "--template-name", name)
			if err := json.Unmarshal(out, &described); err != nil {
				t.Fatalf("describe-provisioning-template printed %s: %v", out, err)
			}
			if described.TemplateBody != body || described.Type != "JITP" || !described.Enabled {
				t.Fatalf("describe-provisioning-template = %s", out)
			}

			cmd := exec.Command(cli, append([]string{"--endpoint-url", srv.endpoint, "--output", "json"},
				append(args[:len(args):len(args)], "--template-name", name+"-broken", "--template-body", "file://"+broken)...)...)
			cmd.Env = awsEnv(credPath)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("a broken template was saved: %s", out)
			}
			if !bytes.Contains(out, []byte("InvalidRequestException")) || !bytes.Contains(out, []byte("Resources.thing.Properties.ThingName: ")) {
				t.Fatalf("a broken template: want InvalidRequestException naming Resources.thing.Properties.ThingName, got %s", out)
			}
		})
	}
}

// TestAPITLS serves the API over HTTPS (--api-tls) and uses it with the real
// aws CLI trusting the data directory's ca.pem (--ca-bundle, or
// AWS_CA_BUNDLE); checks that a slow client is cut (--api-read-timeout), and
// that a non-loopback --api-addr needs --api-tls or --api-allow-insecure.
func TestAPITLS(t *testing.T) {
	clis := awsCLIs(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	const readTimeout = 2 * time.Second
	srv := startBinary(t, bin, "--data-dir", dir, "--api-tls", "--api-read-timeout", readTimeout.String())
	if !strings.HasPrefix(srv.endpoint, "https://127.0.0.1:") {
		t.Fatalf("endpoint %s, want https://127.0.0.1:<port>", srv.endpoint)
	}
	credPath, caPath := filepath.Join(dir, "credentials"), filepath.Join(dir, "ca.pem")
	aws := func(cli, endpoint string, env []string, args ...string) ([]byte, error) {
		cmd := exec.Command(cli, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
		cmd.Env = append(awsEnv(credPath), env...)
		return cmd.CombinedOutput()
	}
	for _, cli := range clis {
		t.Run(filepath.Base(filepath.Dir(cli))+"-aws", func(t *testing.T) {
			if out, err := aws(cli, srv.endpoint, nil, "--ca-bundle", caPath, "iot", "create-thing", "--thing-name", "tls-"+filepath.Base(filepath.Dir(cli))); err != nil {
				t.Fatalf("create-thing with --ca-bundle: %v\n%s", err, out)
			}
			out, err := aws(cli, srv.endpoint, []string{"AWS_CA_BUNDLE=" + caPath}, "iot", "list-things")
			if err != nil || !bytes.Contains(out, []byte("tls-")) {
				t.Fatalf("list-things with AWS_CA_BUNDLE: %v\n%s", err, out)
			}
			// Without the CA, the server is not trusted.
			out, err = aws(cli, srv.endpoint, []string{"AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard"}, "iot", "list-things")
			if err == nil || !bytes.Contains(bytes.ToLower(out), []byte("certificate verify failed")) {
				t.Fatalf("list-things without the CA: %v\n%s; want a certificate verification failure", err, out)
			}
		})
	}

	roots := x509.NewCertPool()
	pem, err := os.ReadFile(caPath)
	if err != nil || !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("ca.pem: %v", err)
	}
	tlsConfig := &tls.Config{RootCAs: roots}
	t.Run("metrics", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}, Timeout: 30 * time.Second}
		res, err := client.Get(srv.endpoint + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		for _, name := range []string{"mqtt_connects_throttled_total", "mqtt_publish_throttled_total", "mqtt_subscriptions_limited_total"} {
			if !bytes.Contains(body, []byte(name)) {
				t.Errorf("/metrics lacks %s", name)
			}
		}
	})
	t.Run("plain http refused", func(t *testing.T) {
		res, err := (&http.Client{Timeout: 30 * time.Second}).Get(strings.Replace(srv.endpoint, "https://", "http://", 1) + "/healthz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				t.Fatal("the API answered plain HTTP")
			}
		}
	})

	// A client that sends its request slowly is cut after the read timeout:
	// its headers, or its body.
	u, err := url.Parse(srv.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name           string
		start, trickle string
	}{
		{"slow headers", "GET /things HTTP/1.1\r\n", "Host: " + u.Host + "\r\nX-Padding: " + strings.Repeat("x", 1000)},
		{"slow body", "POST /things/slow HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", strings.Repeat(" ", 1000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", u.Host, tlsConfig)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tt.start); err != nil {
				t.Fatal(err)
			}
			// A byte every 100ms: 100s for the whole, unless cut.
			trickled := make(chan error, 1)
			go func() {
				for i := range len(tt.trickle) {
					if _, err := io.WriteString(c, tt.trickle[i:i+1]); err != nil {
						trickled <- nil
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				trickled <- errors.New("the whole request was sent")
			}()
			start := time.Now()
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err = io.ReadAll(c) // a response, if any, then the close
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %v", time.Since(start))
			}
			_ = c.Close()
			if err := <-trickled; err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("non-loopback address", func(t *testing.T) {
		out, err := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--api-addr", "0.0.0.0:0", "--mqtt-addr", "127.0.0.1:0").CombinedOutput()
		if err == nil {
			t.Fatalf("iotcore serve --api-addr 0.0.0.0:0 without --api-tls started:\n%s", out)
		}
		for _, want := range []string{"not on loopback", "--api-tls", "--api-allow-insecure"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("the error does not say %q:\n%s", want, out)
			}
		}

		// With --api-tls it serves, at the host name the certificate names.
		dir := t.TempDir()
		srv := startBinary(t, bin, "--data-dir", dir, "--api-tls", "--api-addr", "0.0.0.0:0")
		if !strings.HasPrefix(srv.endpoint, "https://localhost:") {
			t.Fatalf("endpoint %s, want https://localhost:<port> (--hostname)", srv.endpoint)
		}
		cmd := exec.Command(clis[0], "--endpoint-url", srv.endpoint, "--ca-bundle", filepath.Join(dir, "ca.pem"), "iot", "list-things")
		cmd.Env = awsEnv(filepath.Join(dir, "credentials"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("list-things: %v\n%s", err, out)
		}
	})
}

// TestJSONLogs checks --log-format json: every line the server logs is a
// JSON object with a time, a level and a message.
func TestJSONLogs(t *testing.T) {
	bin := buildBinary(t)
	srv := startBinary(t, bin, "--data-dir", t.TempDir(), "--log-format", "json")
	srv.stop(t)
	lines := strings.Split(strings.TrimSpace(srv.stderr.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("too few log lines: %q", lines)
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
			t.Fatalf("log line %q is not a JSON log record (%v)", l, err)
		}
	}
}
