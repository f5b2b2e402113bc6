package sigv4_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/iottest"
)

// needProgram runs a program the test needs: without it the test fails
// in CI and is skipped elsewhere (iottest.NeedProgram).
func needProgram(t *testing.T, name string, args ...string) {
	t.Helper()
	iottest.NeedProgram(t, name, args...)
}

// cleanEnv returns the environment without AWS settings, plus extra, so no
// profile, region or credentials of the machine leak into a test.
func cleanEnv(t *testing.T, extra ...string) []string {
	dir := t.TempDir()
	env := []string{
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// botocoreScript signs each request with botocore's SigV4Auth and sends it
// with urllib, exactly as given; then it calls the API through a real
// botocore client, as the aws CLI does.
const botocoreScript = `
import json, sys, urllib.error, urllib.request
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

cfg = json.load(sys.stdin)
out = {"raw": [], "client": []}
for c in cfg["raw"]:
    body = c["body"].encode() if c["body"] else None
    req = AWSRequest(method=c["method"], url=cfg["url"] + c["target"], data=body, headers=c["headers"])
    creds = Credentials(c.get("keyID") or cfg["keyID"], c.get("secret") or cfg["secret"])
    SigV4Auth(creds, c.get("service") or "iot", c["region"]).add_auth(req)
    wire = urllib.request.Request(req.url, data=body, method=c["method"], headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(wire) as resp:
            out["raw"].append({"status": resp.status, "code": ""})
    except urllib.error.HTTPError as e:
        out["raw"].append({"status": e.code, "code": e.headers.get("x-amzn-ErrorType", "")})

for c in cfg["client"]:
    client = botocore.session.get_session().create_client(
        "iot", region_name=c["region"], endpoint_url=cfg["url"],
        aws_access_key_id=cfg["keyID"], aws_secret_access_key=c.get("secret") or cfg["secret"],
        config=Config(retries={"max_attempts": 1}))
    try:
        getattr(client, c["op"])(**c["params"])
        out["client"].append({"code": ""})
    except ClientError as e:
        out["client"].append({"code": e.response["Error"]["Code"]})
json.dump(out, sys.stdout)
`

// TestVerifyBotocore proves the canonical request against botocore itself,
// including the second percent-encoding of an already encoded path.
func TestVerifyBotocore(t *testing.T) {
	needProgram(t, "python3", "-c", "import botocore.auth, botocore.awsrequest, botocore.credentials, botocore.session")
	srv := newVerifyServer(t, newVerifier(nil))

	type raw struct {
		Name     string            `json:"-"`
		Method   string            `json:"method"`
		Target   string            `json:"target"`
		Body     string            `json:"body"`
		Headers  map[string]string `json:"headers"`
		Region   string            `json:"region"`
		Service  string            `json:"service,omitempty"`
		KeyID    string            `json:"keyID,omitempty"`
		Secret   string            `json:"secret,omitempty"`
		WantCode string            `json:"-"`
	}
	raws := []raw{
		{Name: "encoded ARN label", Method: "POST", Target: arnPath, Region: "us-east-2"},
		{Name: "encoded enum query", Method: "GET", Target: "/endpoint?endpointType=iot%3AData-ATS", Region: "ap-south-1"},
		{
			Name: "JSON body", Method: "POST", Target: "/things/t1", Region: "eu-west-1",
			Body:    `{"attributePayload":{"attributes":{"a":"b"}}}`,
			Headers: map[string]string{"Content-Type": "application/json"},
		},
		{
			Name: "header with runs of spaces", Method: "GET", Target: "/principals/things", Region: "us-east-1",
			Headers: map[string]string{"x-amzn-principal": "  arn:aws:iot:us-east-1:123456789012:cert/abc   with    spaces "},
		},
		{Name: "marker and space in query", Method: "GET", Target: "/things?maxResults=5&attributeValue=b%20c&marker=bmV4dA%3D%3D", Region: "us-east-1"},
		{Name: "dot and empty segments, normalised by botocore", Method: "GET", Target: "/things/./t1//principals/x/..", Region: "us-east-1"},
		{Name: "UTF-8 path", Method: "GET", Target: "/things/%C3%A9t%C3%A9", Region: "us-east-1"},
		{Name: "signed as execute-api", Method: "GET", Target: "/things", Region: "us-east-1", Service: "execute-api"},
		{Name: "wrong secret", Method: "GET", Target: "/things", Region: "us-east-1", Secret: "wrong", WantCode: sigv4.InvalidSignature},
		{Name: "unknown key", Method: "GET", Target: "/things", Region: "us-east-1", KeyID: "AKIDUNKNOWN", WantCode: sigv4.UnrecognizedClient},
		{Name: "wrong service", Method: "GET", Target: "/things", Region: "us-east-1", Service: "iotdata", WantCode: sigv4.InvalidSignature},
	}
	type call struct {
		Name     string         `json:"-"`
		Op       string         `json:"op"`
		Params   map[string]any `json:"params"`
		Region   string         `json:"region"`
		Secret   string         `json:"secret,omitempty"`
		WantCode string         `json:"-"`
	}
	calls := []call{
		{Name: "ListAttachedPolicies", Op: "list_attached_policies", Region: "us-east-2",
			Params: map[string]any{"target": "arn:aws:iot:us-east-1:123456789012:cert/abc", "recursive": true}},
		{Name: "DescribeEndpoint", Op: "describe_endpoint", Region: "ap-south-1", Params: map[string]any{"endpointType": "iot:Data-ATS"}},
		{Name: "CreateThing", Op: "create_thing", Region: "eu-west-1",
			Params: map[string]any{"thingName": "t1", "attributePayload": map[string]any{"attributes": map[string]string{"a": "b c"}}}},
		{Name: "ListThings", Op: "list_things", Region: "us-east-1",
			Params: map[string]any{"maxResults": 5, "attributeName": "a", "attributeValue": "b c", "nextToken": "bmV4dA=="}},
		{Name: "AttachThingPrincipal", Op: "attach_thing_principal", Region: "us-east-1",
			Params: map[string]any{"thingName": "t1", "principal": "arn:aws:iot:us-east-1:123456789012:cert/abc"}},
		{Name: "wrong secret", Op: "list_things", Region: "us-east-1", Params: map[string]any{}, Secret: "wrong", WantCode: sigv4.InvalidSignature},
	}

	in, err := json.Marshal(map[string]any{"url": srv.URL, "keyID": testKeyID, "secret": testSecret, "raw": raws, "client": calls})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", botocoreScript)
	cmd.Env = cleanEnv(t)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	var out struct {
		Raw []struct {
			Status int
			Code   string
		}
		Client []struct{ Code string }
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	if len(out.Raw) != len(raws) || len(out.Client) != len(calls) {
		t.Fatalf("got %d raw and %d client results, want %d and %d", len(out.Raw), len(out.Client), len(raws), len(calls))
	}
	for i, c := range raws {
		t.Run("SigV4Auth/"+c.Name, func(t *testing.T) {
			if got := out.Raw[i].Code; got != c.WantCode {
				t.Errorf("code = %q (status %d), want %q", got, out.Raw[i].Status, or(c.WantCode, "success"))
			}
		})
	}
	for i, c := range calls {
		t.Run("client/"+c.Name, func(t *testing.T) {
			if got := out.Client[i].Code; got != c.WantCode {
				t.Errorf("code = %q, want %q", got, or(c.WantCode, "success"))
			}
		})
	}

	// The server must have seen the labels still encoded, or the cases proved
	// nothing about double encoding.
	var seen []string
	for _, v := range srv.requests() {
		seen = append(seen, v.RequestURI)
	}
	all := strings.Join(seen, "\n")
	for _, want := range []string{arnPath, "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc?recursive=true",
		"endpointType=iot%3AData-ATS", "/things/./t1//principals/x/..", "attributeValue=b%20c"} {
		if !strings.Contains(all, want) {
			t.Errorf("no request URI contains %q; seen:\n%s", want, all)
		}
	}
}

// awsCLIs returns every distinct aws program on PATH: the aws CLI v1 (pip)
// and v2 (Debian's awscli) sign differently — v2.9 signs IoT as execute-api.
func awsCLIs() []string {
	var found []string
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p, err := exec.LookPath(filepath.Join(dir, "aws"))
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && !seen[real] {
			seen[real] = true
			found = append(found, p)
		}
	}
	return found
}

// TestVerifyAWSCLI runs each aws CLI on PATH against the verifier.
func TestVerifyAWSCLI(t *testing.T) {
	needProgram(t, "aws", "--version")
	srv := newVerifyServer(t, newVerifier(nil))

	tests := []struct {
		name     string
		secret   string
		args     []string
		wantCode string
	}{
		{name: "list-attached-policies with an ARN label",
			args: []string{"iot", "list-attached-policies", "--target", "arn:aws:iot:us-east-1:123456789012:cert/abc", "--region", "us-east-2"}},
		{name: "describe-endpoint", args: []string{"iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS", "--region", "ap-south-1"}},
		{name: "create-thing with a JSON body",
			args: []string{"iot", "create-thing", "--thing-name", "t1", "--attribute-payload", `{"attributes":{"a":"b"}}`, "--region", "eu-west-1"}},
		{name: "wrong secret", secret: "wrong", args: []string{"iot", "list-things"}, wantCode: sigv4.InvalidSignature},
	}
	for _, cli := range awsCLIs() {
		version, err := exec.Command(cli, "--version").CombinedOutput()
		if err != nil {
			t.Errorf("%s --version: %v\n%s", cli, err, version)
			continue
		}
		name, _, _ := strings.Cut(string(version), " ")
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					args := append([]string{"--endpoint-url", srv.URL, "--output", "json"}, tt.args...)
					cmd := exec.CommandContext(ctx, cli, args...)
					cmd.Env = cleanEnv(t,
						"AWS_ACCESS_KEY_ID="+testKeyID,
						"AWS_SECRET_ACCESS_KEY="+or(tt.secret, testSecret),
						"AWS_DEFAULT_REGION=us-east-1",
					)
					out, err := cmd.CombinedOutput()
					switch {
					case tt.wantCode == "" && err != nil:
						t.Fatalf("%s %s: %v\n%s", cli, strings.Join(tt.args, " "), err, out)
					case tt.wantCode != "" && (err == nil || !bytes.Contains(out, []byte(tt.wantCode))):
						t.Fatalf("%s %s: %v\n%s\nwant an error naming %s", cli, strings.Join(tt.args, " "), err, out, tt.wantCode)
					}
				})
			}
		})
	}
}
