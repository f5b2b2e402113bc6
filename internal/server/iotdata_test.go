package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/iottest"
)

// iotDataScript publishes with boto3's iot-data client as its argv says
// (a JSON list of calls) and prints each call's outcome: OK or the error
// code.
const iotDataScript = `
import base64, json, os, sys
import boto3, botocore.config, botocore.exceptions
c = boto3.client("iot-data", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-2",
    aws_access_key_id=os.environ["KEY_ID"], aws_secret_access_key=os.environ["SECRET"],
    config=botocore.config.Config(retries={"max_attempts": 1}))
out = []
for call in json.loads(sys.argv[1]):
    call["payload"] = base64.b64decode(call["payload"])
    try:
        c.publish(**call)
        out.append("OK")
    except botocore.exceptions.ClientError as e:
        out.append(e.response["Error"]["Code"])
print(json.dumps(out))
`

// boto3Publish runs the calls (publish's keyword arguments, the payload in
// base64) with boto3 and returns their outcomes.
func boto3Publish(t *testing.T, ts *testServer, calls ...map[string]any) []string {
	t.Helper()
	iottest.NeedProgram(t, "python3", "-c", "import boto3")
	arg, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", iotDataScript, string(arg))
	cmd.Env = append(os.Environ(), "ENDPOINT="+ts.APIURL(), "KEY_ID="+ts.Credentials.AccessKeyID,
		"SECRET="+ts.Credentials.SecretAccessKey, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, stderrOf(err))
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("boto3 printed %q: %v", out, err)
	}
	return got
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

// received subscribes c to filter and returns the messages it gets, as
// "topic payload".
func received(t *testing.T, c paho.Client, filter string) <-chan string {
	t.Helper()
	got := make(chan string, 16)
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() + " " + string(m.Payload()) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return got
}

// TestIoTDataPublishBoto3 publishes with boto3's iot-data client on the API
// listener: a binary payload reaches an MQTT subscriber, a retained one a
// later subscriber, a Basic Ingest one its rule only, and a wildcard topic
// or a retained reserved one is InvalidRequestException.
func TestIoTDataPublishBoto3(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	must[*iot.CreateTopicRuleOutput](t)(ts.client.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{
		RuleName: aws.String("ingest"),
		TopicRulePayload: &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'in/#'"), Actions: []types.Action{{
			Republish: &types.RepublishAction{Topic: aws.String("out/ingested"), RoleArn: aws.String("arn:aws:iam::123456789012:role/r")},
		}}},
	}))
	observer := ts.observer(t)
	ab := received(t, observer, "a/b")
	out := received(t, observer, "out/#")
	in := received(t, observer, "in/#")

	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	got := boto3Publish(t, ts,
		map[string]any{"topic": "a/b", "qos": 1, "payload": b64("\x00binary\xff")},
		map[string]any{"topic": "keep/1", "qos": 1, "retain": true, "payload": b64("kept")},
		map[string]any{"topic": "$aws/rules/ingest/in/x", "payload": b64(`{"v":1}`)},
		map[string]any{"topic": "a/+", "payload": b64("x")},
		map[string]any{"topic": "$aws/things/t1/shadow/update", "retain": true, "payload": b64("{}")},
	)
	want := []string{"OK", "OK", "OK", "InvalidRequestException", "InvalidRequestException"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("boto3 outcomes = %q, want %q", got, want)
	}
	if m := iottest.Receive(t, ab, "the boto3 message"); m != "a/b \x00binary\xff" {
		t.Errorf("received %q", m)
	}
	if m := iottest.Receive(t, out, "the rule's republish of the Basic Ingest message"); m != `out/ingested {"v":1}` {
		t.Errorf("received %q", m)
	}
	select {
	case m := <-in:
		t.Errorf("a subscriber received the Basic Ingest message: %q", m)
	case <-time.After(200 * time.Millisecond):
	}
	later := ts.observer(t)
	if m := iottest.Receive(t, received(t, later, "keep/1"), "the retained message"); m != "keep/1 kept" {
		t.Errorf("a later subscriber received %q", m)
	}
}

// TestIoTDataPublishAWSCLI publishes with the aws CLI: --payload fileb://
// sends the file's bytes (v1 and v2); a --payload string is sent as its
// text by v1, while v2 decodes it as base64 unless --cli-binary-format
// raw-in-base64-out, which v1 does not know.
func TestIoTDataPublishAWSCLI(t *testing.T) {
	version := iottest.NeedProgram(t, "aws", "--version")
	ts := startServer(t)
	got := received(t, ts.observer(t), "cli/#")
	dir := t.TempDir()
	bin := filepath.Join(dir, "payload.bin")
	if err := os.WriteFile(bin, []byte("\x00\x01cli\xfe"), 0o600); err != nil {
		t.Fatal(err)
	}
	awsCLI := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", ts.APIURL(), "iot-data", "publish"}, args...)...)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_DEFAULT_REGION=us-east-2",
			"AWS_ACCESS_KEY_ID=" + ts.Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + ts.Credentials.SecretAccessKey,
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := awsCLI("--topic", "cli/bin", "--qos", "1", "--payload", "fileb://"+bin); err != nil {
		t.Fatalf("aws iot-data publish fileb://: %v\n%s", err, out)
	}
	if m := iottest.Receive(t, got, "the fileb:// message"); m != "cli/bin \x00\x01cli\xfe" {
		t.Errorf("received %q", m)
	}
	text := []string{"--payload", "hello"}
	if strings.HasPrefix(version, "aws-cli/2") {
		text = append(text, "--cli-binary-format", "raw-in-base64-out")
	}
	if out, err := awsCLI(append([]string{"--topic", "cli/text", "--qos", "1"}, text...)...); err != nil {
		t.Fatalf("aws iot-data publish text: %v\n%s", err, out)
	}
	if m := iottest.Receive(t, got, "the text message"); m != "cli/text hello" {
		t.Errorf("received %q", m)
	}
	out, err := awsCLI("--topic", "cli/#", "--payload", "x")
	if err == nil || !strings.Contains(out, "An error occurred (InvalidRequestException) when calling the Publish operation") {
		t.Errorf("a wildcard topic: err %v, said:\n%s", err, out)
	}
}

// TestIoTDataPublishUnsigned checks that an unsigned Publish is refused
// and delivers nothing.
func TestIoTDataPublishUnsigned(t *testing.T) {
	ts := startServer(t)
	got := received(t, ts.observer(t), "u/#")
	resp, err := http.Post(ts.APIURL()+"/topics/u%2F1?qos=1", "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := resp.Header.Get("x-amzn-ErrorType"); resp.StatusCode != http.StatusForbidden || code != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, code)
	}
	select {
	case m := <-got:
		t.Errorf("an unsigned publish was delivered: %q", m)
	case <-time.After(200 * time.Millisecond):
	}
}
