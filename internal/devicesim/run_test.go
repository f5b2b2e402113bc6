package devicesim_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/devicesim"
	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/pkitool"
)

const testTimeout = 60 * time.Second

func run(t *testing.T, cfg devicesim.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return devicesim.Run(ctx, cfg)
}

func wantKind(t *testing.T, err error, kind devicesim.Kind, texts ...string) {
	t.Helper()
	var de *devicesim.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v, want a devicesim.Error of kind %d", err, kind)
	}
	if de.Kind != kind || de.ExitCode() != int(kind) {
		t.Errorf("kind %d, want %d (%v)", de.Kind, kind, err)
	}
	for _, text := range texts {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q lacks %q", err, text)
		}
	}
}

func wantLog(t *testing.T, log string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(log, l) {
			t.Errorf("log lacks %q:\n%s", l, log)
		}
	}
}

// TestJITP is seed 000 with the simulator as the device: the first
// connection is dropped, the retry is let in, and the device receives what
// it publishes under its thing name.
func TestJITP(t *testing.T) {
	e := newEnv(t)
	e.jitpCA("root")
	cert, id := e.device("root", "DemoThing")
	var log logBuffer
	var out bytes.Buffer
	cfg := e.config(cert, &log)
	cfg.Subscribe = []string{"DemoThing/#"}
	cfg.Publish = "DemoThing/test"
	cfg.Count = 3
	cfg.Out = &out
	if err := run(t, cfg); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	wantLog(t, log.String(),
		"device certificate CN=DemoThing,C=IN (id "+id+")",
		`connecting to `+cfg.Addr+` as client id "DemoThing" (attempt 1 of 5)`,
		"connection dropped before CONNACK: on AWS IoT and iotcore this is what a device's first just-in-time-provisioning connection does",
		"retrying in 20ms",
		"(attempt 2 of 5)",
		"connected: CONNACK success (0x00)",
		"subscribed to DemoThing/# (SUBACK granted QoS 1 (0x01))",
		"published message 3 of 3 to DemoThing/test (PUBACK success (0x00))",
		"received message 3 on DemoThing/test (5 bytes)",
		"disconnected",
	)
	t.Logf("device log:\n%s", log.String())
	if got, want := out.String(), strings.Repeat("DemoThing/test Hello\n", 3); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	thing, err := e.client.DescribeThing(context.Background(), &iot.DescribeThingInput{ThingName: aws.String("DemoThing")})
	if err != nil || thing.Attributes["country"] != "IN" {
		t.Errorf("the thing was not provisioned: %v %+v", err, thing)
	}

	// Provisioned, the device is let in at once (also offering AWS's ALPN
	// protocol, as devices on port 443 do), and refused what its policy does
	// not allow.
	t.Run("alpn", func(t *testing.T) {
		var log logBuffer
		cfg := e.config(cert, &log)
		cfg.NextProtos = []string{"x-amzn-mqtt-ca"}
		if err := run(t, cfg); err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		if strings.Contains(log.String(), "dropped") {
			t.Errorf("a provisioned device was dropped:\n%s", log.String())
		}
	})
	t.Run("policy", func(t *testing.T) {
		tests := []struct {
			name  string
			edit  func(*devicesim.Config)
			texts []string
		}{
			{"another client id", func(c *devicesim.Config) { c.ClientID = "someoneElse" },
				[]string{"CONNACK not authorized (0x87)", `iot:Connect for client id "someoneElse"`, `the certificate's CN "DemoThing"`}},
			{"publish elsewhere", func(c *devicesim.Config) { c.Publish = "elsewhere/x" },
				[]string{"PUBACK not authorized (0x87) for elsewhere/x", "iot:Publish on arn:aws:iot:REGION:ACCOUNT:topic/elsewhere/x"}},
			{"subscribe elsewhere", func(c *devicesim.Config) { c.Subscribe = []string{"elsewhere/#"} },
				[]string{"SUBACK not authorized (0x87) for elsewhere/#", "iot:Subscribe on arn:aws:iot:REGION:ACCOUNT:topicfilter/elsewhere/#"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var log logBuffer
				cfg := e.config(cert, &log)
				cfg.Count = 1
				tt.edit(&cfg)
				wantKind(t, run(t, cfg), devicesim.Refused, tt.texts...)
				if strings.Contains(log.String(), "dropped") {
					t.Errorf("a provisioned device was dropped:\n%s", log.String())
				}
			})
		}
	})
}

// TestJITR: the device is dropped while its certificate is
// PENDING_ACTIVATION, and let in once activated, the simulator retrying
// all along.
func TestJITR(t *testing.T) {
	e := newEnv(t)
	e.ca("jitr", &pkitool.RegistrationConfig{})
	cert, id := e.device("jitr", "sensor-1")
	var log logBuffer
	cfg := e.config(cert, &log)
	cfg.Attempts = -1
	cfg.MaxRetryDelay = 100 * time.Millisecond
	cfg.Publish = "sensor-1/hello"
	cfg.Count = 1
	done := make(chan error, 1)
	go func() { done <- run(t, cfg) }()

	select {
	case <-log.when("connection dropped before CONNACK again"):
	case err := <-done:
		t.Fatalf("the device stopped: %v\n%s", err, log.String())
	case <-time.After(iottest.Timeout):
		t.Fatalf("timed out waiting for the device\n%s", log.String())
	}
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":"*"}]}`
	if _, err := e.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("all"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("all"), Target: aws.String("arn:aws:iot:us-east-1:123456789012:cert/" + id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: types.CertificateStatusActive}); err != nil {
		t.Fatal(err)
	}
	if err := iottest.Receive(t, done, "the device to publish once activated"); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("device log:\n%s", log.String())
	wantLog(t, log.String(), "with JITR the certificate stays PENDING_ACTIVATION", "aws --endpoint-url "+e.srv.APIURL()+" iot update-certificate --certificate-id "+id+" --new-status ACTIVE", "published message 1 of 1")
}

// TestRevokedWhileConnected: revoking the certificate of a connected device
// disconnects it, and the simulator says why.
func TestRevokedWhileConnected(t *testing.T) {
	e := newEnv(t)
	e.jitpCA("root")
	cert, id := e.device("root", "DemoThing")
	var log logBuffer
	cfg := e.config(cert, &log)
	cfg.Subscribe = []string{"DemoThing/#"} // and wait for messages until stopped
	done := make(chan error, 1)
	go func() { done <- run(t, cfg) }()
	select {
	case <-log.when("subscribed to DemoThing/#"):
	case err := <-done:
		t.Fatalf("the device stopped: %v\n%s", err, log.String())
	case <-time.After(iottest.Timeout):
		t.Fatalf("timed out waiting for the device\n%s", log.String())
	}
	if _, err := e.client.UpdateCertificate(context.Background(), &iot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: types.CertificateStatusRevoked}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, iottest.Receive(t, done, "the revoked device to stop"), devicesim.Disconnected, "DISCONNECT not authorized (0x87)", "deactivated or revoked")
}

func TestConnectFailures(t *testing.T) {
	e := newEnv(t)
	e.ca("unregistered", nil)
	unknown, id := e.device("unregistered", "stranger")
	e.jitpCA("root")
	cert, _ := e.device("root", "DemoThing")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	other := x509.NewCertPool()
	otherCA, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: "Someone Else"}, Output: pkitool.Output{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	other.AddCert(otherCA.Certificate)

	tests := []struct {
		name     string
		edit     func(*devicesim.Config)
		kind     devicesim.Kind
		texts    []string
		attempts int
	}{
		{"unregistered CA", func(c *devicesim.Config) { c.Certificate = unknown; c.Attempts = 2 }, devicesim.Dropped,
			[]string{"gave up after 2 attempts", "connection dropped before CONNACK again", "does not accept certificate " + id}, 2},
		{"nothing listens", func(c *devicesim.Config) { c.Addr = closedAddr; c.Attempts = 2 }, devicesim.Network,
			[]string{"gave up after 2 attempts", "nothing listens on " + closedAddr + " (connection refused)"}, 2},
		{"server not trusted", func(c *devicesim.Config) { c.RootCAs = other }, devicesim.Network,
			[]string{"is not signed by a CA in the server CA file", "ca.pem in its data directory"}, 1},
		{"server not trusted by the system", func(c *devicesim.Config) { c.RootCAs = nil }, devicesim.Network,
			[]string{"is not signed by a CA the system trusts", "AmazonRootCA1.pem"}, 1},
		{"wrong server name", func(c *devicesim.Config) { c.ServerName = "iot.example.com" }, devicesim.Network,
			[]string{`not valid for "iot.example.com"`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log logBuffer
			cfg := e.config(cert, &log)
			tt.edit(&cfg)
			wantKind(t, run(t, cfg), tt.kind, tt.texts...)
			if got := strings.Count(log.String(), "connecting to "); got != tt.attempts {
				t.Errorf("%d attempts, want %d:\n%s", got, tt.attempts, log.String())
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	e := newEnv(t)
	e.ca("root", nil)
	cert, _ := e.device("root", "DemoThing")
	tests := []struct {
		name string
		edit func(*devicesim.Config)
		want string
	}{
		{"no address", func(c *devicesim.Config) { c.Addr = "" }, "no endpoint address"},
		{"no port", func(c *devicesim.Config) { c.Addr = "localhost" }, "want host:port"},
		{"QoS 2", func(c *devicesim.Config) { c.QoS = 2 }, "QoS 0 and 1"},
		{"no certificate", func(c *devicesim.Config) { c.Certificate.Certificate = nil }, "no certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := e.config(cert, nil)
			tt.edit(&cfg)
			err := run(t, cfg)
			var de *devicesim.Error
			if err == nil || errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want a configuration error containing %q", err, tt.want)
			}
		})
	}
}
