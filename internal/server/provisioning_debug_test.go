package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// syncBuffer is a log sink safe for the server's goroutines.
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

// signedGet sends a SigV4-signed GET to the server, as the iotcore CLI does.
func (ts *testServer) signedGet(t *testing.T, path string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.APIURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: ts.Credentials.AccessKeyID, SecretAccessKey: ts.Credentials.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "iot", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// TestProvisioningFailureIsVisible checks issue 4's promise: a device
// certificate without C against seed 000's template fails, and the failure
// and its exact reason show up in the log, the metric, the attempts topic and
// the attempts listing.
func TestProvisioningFailureIsVisible(t *testing.T) {
	logs := &syncBuffer{}
	ts := startServerLogging(t, slog.New(slog.NewJSONHandler(logs, nil)))
	ctx := context.Background()
	ca, caID := ts.registerCA(t, "Device Root CA", true, true)
	const seedTemplate = `{ "Parameters" : { "AWS::IoT::Certificate::CommonName" : { "Type" : "String" },"AWS::IoT::Certificate::Country" : { "Type" : "String" }, "AWS::IoT::Certificate::Id" : { "Type" : "String" }}, "Resources" : { "thing" : { "Type" : "AWS::IoT::Thing", "Properties" : { "ThingName" : {"Ref" : "AWS::IoT::Certificate::CommonName"}, "AttributePayload" : { "version" : "v1", "country" : {"Ref" : "AWS::IoT::Certificate::Country"}} } }, "certificate" : { "Type" : "AWS::IoT::Certificate", "Properties" : { "CertificateId": {"Ref" : "AWS::IoT::Certificate::Id"}, "Status" : "ACTIVE" } }, "policy" :  {"Type" : "AWS::IoT::Policy", "Properties" : { "PolicyName" :  "Policy_Name"} } } }`
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId:      aws.String(caID),
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(seedTemplate), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
	}))
	observer := ts.observer(t)
	events := make(chan []byte, 4)
	if tok := observer.Subscribe("$iotcore/events/provisioning/"+caID, 1, func(_ paho.Client, m paho.Message) { events <- m.Payload() }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: "NoCountry"})
	id := certID(cert)
	if _, err := ts.mqttConnect(t, "NoCountry", key, cert, ca.Certificate); err == nil {
		t.Fatal("the device got in")
	}
	const why = "AWS::IoT::Certificate::Country"

	// 1. The attempts topic.
	select {
	case p := <-events:
		var e map[string]any
		if err := json.Unmarshal(p, &e); err != nil {
			t.Fatal(err)
		}
		if e["outcome"] != "FAILED" || e["certificateId"] != id || e["failedStep"] != "render" || !strings.Contains(e["reason"].(string), why) {
			t.Fatalf("attempt event: %s", p)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no attempt event")
	}
	// 2. The listing, per CA and per certificate.
	for _, q := range []string{"caCertificateId=" + caID, "certificateId=" + id} {
		var out struct {
			Attempts []map[string]any `json:"attempts"`
		}
		if err := json.Unmarshal(ts.signedGet(t, "/iotcore/provisioning-attempts?"+q), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Attempts) != 1 || out.Attempts[0]["outcome"] != "FAILED" || !strings.Contains(out.Attempts[0]["reason"].(string), "no C (country) attribute") {
			t.Fatalf("attempts by %s: %+v", q, out.Attempts)
		}
	}
	// 3. The metric.
	resp, err := http.Get(ts.APIURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`iotcore_api_requests_total{code="OK",operation="UpdateCACertificate"} 1`, `iotcore_api_request_duration_seconds_count{operation="UpdateCACertificate"} 1`} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(string(metricsText), "iotcore_api"))
		}
	}
	if !strings.Contains(string(metricsText), `iotcore_provisioning_attempts_total{kind="JITP",outcome="FAILED",reason="render"} 1`) {
		t.Fatalf("metrics lack the failed attempt:\n%s", grepLines(string(metricsText), "provisioning"))
	}
	// 4. The log line.
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"provisioning failed"`) && strings.Contains(line, id) && strings.Contains(line, why) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no log line for the failure:\n%s", grepLines(logs.String(), "provision"))
	}
	// And the certificate is left as AWS leaves it.
	d := must[*iot.DescribeCertificateOutput](t)(ts.client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(id)}))
	if d.CertificateDescription.Status != types.CertificateStatusPendingActivation {
		t.Fatalf("status %s", d.CertificateDescription.Status)
	}
}

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestOperationalEndpoints checks /healthz, /readyz and /metrics, which are
// served without signatures, and that nothing else is.
func TestOperationalEndpoints(t *testing.T) {
	ts := startServer(t)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "iotcore_mqtt_messages_dropped_total"} {
		resp, err := http.Get(ts.APIURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %.100s", path, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(ts.APIURL() + "/iotcore/provisioning-attempts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned provisioning-attempts: %d, want 403", resp.StatusCode)
	}
}
