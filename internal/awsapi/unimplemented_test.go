package awsapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnimplemented checks that a request for a service or an operation
// iotcore does not implement is told so, and what iotcore implements, in an
// AWS-shaped error (issue 11 item 5: aws iot-data publish was told
// "Credential should be scoped to correct service: 'iot'").
func TestUnimplemented(t *testing.T) {
	const served = `iotcore implements only the AWS IoT control plane (signing name "iot"`
	tests := []struct {
		name string
		req  signed
		want []string // in the message
	}{
		{"iot-data publish", signed{method: "POST", target: "/topics/x?qos=0", body: "hi", service: "iotdata"},
			[]string{`does not implement the service this request is signed for ("iotdata": the AWS IoT data plane`, served}},
		{"iot-data publish with an unknown key", signed{method: "POST", target: "/topics/x", body: "hi", service: "iotdata", keyID: "AKIDUNKNOWN"},
			[]string{`("iotdata"`, served}},
		{"iot-jobs-data", signed{target: "/things/t1/jobs", service: "iot-jobs-data"},
			[]string{`("iot-jobs-data": the AWS IoT jobs data plane`, served}},
		{"sts", signed{method: "POST", target: "/", body: "Action=GetCallerIdentity", service: "sts"},
			[]string{`("sts": AWS STS`, served}},
		{"a service nobody named", signed{target: "/", service: "kinesis"},
			[]string{`("kinesis": another AWS service)`, served}},
		{"a control-plane operation iotcore does not implement", signed{target: "/destinations"},
			[]string{"iotcore does not implement ListTopicRuleDestinations (GET /destinations)", served}},
		{"an operation iotcore does not implement, with a label", signed{target: "/jobs/j1"},
			[]string{"iotcore does not implement DescribeJob (GET /jobs/{jobId})", served}},
		{"a path that is not AWS IoT's", signed{target: "/no-such-thing"},
			[]string{"iotcore does not implement the operation at GET /no-such-thing.", served}},
		{"an operation with a label", signed{method: "POST", target: "/jobs/j1", body: "{}"},
			[]string{"at POST /jobs/j1.", served}},
	}
	api, store := newAPI(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serve(t, api, tt.req.request(t))
			if got.Status != http.StatusNotFound || got.Code != "UnknownOperationException" {
				t.Fatalf("answer = %d %s (%s), want 404 UnknownOperationException", got.Status, got.Code, got.Message)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Message, w) {
					t.Errorf("message = %q\nwant it to contain %q", got.Message, w)
				}
			}
		})
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("the registry was asked %d times", n)
	}
}

// TestUnimplementedAWSCLI runs the real aws iot-data publish against the API.
func TestUnimplementedAWSCLI(t *testing.T) {
	needProgram(t, "aws", "--version")
	api, _ := newAPI(t, nil)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", "--endpoint-url", srv.URL, "iot-data", "publish", "--topic", "x", "--payload", "aGk=")
	dir := t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
		"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret, "AWS_DEFAULT_REGION=us-east-1",
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("aws iot-data publish succeeded:\n%s", out)
	}
	for _, want := range []string{
		"An error occurred (UnknownOperationException) when calling the Publish operation",
		`iotcore does not implement the service this request is signed for ("iotdata"`,
		`iotcore implements only the AWS IoT control plane (signing name "iot"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("aws iot-data publish said:\n%s\nwant it to contain %q", out, want)
		}
	}
}
