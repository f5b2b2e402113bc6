package awsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/awsapi"
	iotcore "github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// fakeRuleSQL stands in for the IoT SQL parser: it knows only
// SELECT <anything> FROM '<topic>' [WHERE ...], and names the position of
// what it cannot read, as a parser does.
type fakeRuleSQL struct{}

var fakeSelect = regexp.MustCompile(`^\s*SELECT\s+.+?\s+FROM\s+'([^']+)'(\s+WHERE\s+.+)?\s*$`)

func (fakeRuleSQL) Topic(sql, version string) (string, error) {
	m := fakeSelect.FindStringSubmatch(sql)
	if m == nil {
		col := strings.Index(strings.ToUpper(sql), "FROM") + 1
		return "", fmt.Errorf("line 1:%d: expected FROM '<topic>' in %q", col, sql)
	}
	return m[1], nil
}

// newRuleAPI serves the API over a real SQLite registry on loopback, with
// the fake SQL parser.
func newRuleAPI(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	api, _ := newAPI(t, func(s *awsapi.Server) {
		s.Registry = &registry.Service{Store: db, Account: s.Registry.Account}
		s.RuleSQL = fakeRuleSQL{}
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

// sdkClient is the AWS SDK for Go v2's IoT client for url, without retries.
func sdkClient(url string) *iot.Client {
	return iot.New(iot.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// jitrRule is the rule of the JITR walkthrough, byte for byte but for the
// CA id.
const jitrRule = `{"sql":"SELECT * FROM '$aws/events/certificates/registered/<caId>'","description":"JITR activation","ruleDisabled":false,"awsIotSqlVersion":"2016-03-23","actions":[{"lambda":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:jitr-activate"}}]}`

const testCAID = "7d4f2e8a1b9c3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6"

// TestTopicRulesAWSCLI runs the rule's life with the real aws CLI: created
// from the walkthrough's file, read back unchanged, listed with its topic
// pattern, disabled and enabled, replaced, tagged and deleted.
func TestTopicRulesAWSCLI(t *testing.T) {
	needProgram(t, "aws", "--version")
	srv := newRuleAPI(t)
	dir := t.TempDir()
	ruleFile := filepath.Join(dir, "rule.json")
	if err := os.WriteFile(ruleFile, []byte(strings.ReplaceAll(jitrRule, "<caId>", testCAID)), 0o600); err != nil {
		t.Fatal(err)
	}
	awsCLI := func(args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", srv.URL, "--output", "json", "iot"}, args...)...)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER=",
			"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret, "AWS_DEFAULT_REGION=us-east-1",
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustCLI := func(args ...string) map[string]any {
		t.Helper()
		out, err := awsCLI(args...)
		if err != nil {
			t.Fatalf("aws iot %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("aws iot %s printed no JSON: %v\n%s", args[0], err, out)
			}
		}
		return v
	}
	const arn = "arn:aws:iot:us-east-1:123456789012:rule/jitr"
	topic := "$aws/events/certificates/registered/" + testCAID

	mustCLI("create-topic-rule", "--rule-name", "jitr", "--topic-rule-payload", "file://"+ruleFile, "--tags", "team=fleet&stage=ci")

	var sent map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(jitrRule, "<caId>", testCAID)), &sent); err != nil {
		t.Fatal(err)
	}
	got := mustCLI("get-topic-rule", "--rule-name", "jitr")
	if got["ruleArn"] != arn {
		t.Errorf("ruleArn = %v, want %s", got["ruleArn"], arn)
	}
	rule, _ := got["rule"].(map[string]any)
	if _, ok := rule["createdAt"].(float64); !ok {
		t.Errorf("rule.createdAt = %#v, want epoch seconds", rule["createdAt"])
	}
	createdAt := rule["createdAt"]
	delete(rule, "createdAt")
	want := map[string]any{"ruleName": "jitr"}
	for k, v := range sent {
		want[k] = v
	}
	if d := cmp.Diff(want, rule); d != "" {
		t.Errorf("get-topic-rule's rule is not the payload sent (-sent +got):\n%s", d)
	}

	listed := mustCLI("list-topic-rules")
	wantItem := []any{map[string]any{"ruleArn": arn, "ruleName": "jitr", "topicPattern": topic, "createdAt": createdAt, "ruleDisabled": false}}
	if d := cmp.Diff(wantItem, listed["rules"]); d != "" {
		t.Errorf("list-topic-rules (-want +got):\n%s", d)
	}
	if got := mustCLI("list-topic-rules", "--topic", topic)["rules"]; len(got.([]any)) != 1 {
		t.Errorf("list-topic-rules --topic %s: %v, want the rule", topic, got)
	}
	if got := mustCLI("list-topic-rules", "--topic", "$aws/events/certificates/registered/other")["rules"]; len(got.([]any)) != 0 {
		t.Errorf("list-topic-rules --topic of another CA: %v, want none", got)
	}

	tags := mustCLI("list-tags-for-resource", "--resource-arn", arn)["tags"]
	wantTags := []any{map[string]any{"Key": "stage", "Value": "ci"}, map[string]any{"Key": "team", "Value": "fleet"}}
	if d := cmp.Diff(wantTags, tags); d != "" {
		t.Errorf("tags from --tags (-want +got):\n%s", d)
	}

	mustCLI("disable-topic-rule", "--rule-name", "jitr")
	if r := mustCLI("get-topic-rule", "--rule-name", "jitr")["rule"].(map[string]any); r["ruleDisabled"] != true {
		t.Errorf("after disable-topic-rule: ruleDisabled = %v", r["ruleDisabled"])
	}
	if got := mustCLI("list-topic-rules", "--rule-disabled")["rules"]; len(got.([]any)) != 1 {
		t.Errorf("list-topic-rules --rule-disabled: %v, want the rule", got)
	}
	if got := mustCLI("list-topic-rules", "--no-rule-disabled")["rules"]; len(got.([]any)) != 0 {
		t.Errorf("list-topic-rules --no-rule-disabled: %v, want none", got)
	}
	mustCLI("enable-topic-rule", "--rule-name", "jitr")
	if r := mustCLI("get-topic-rule", "--rule-name", "jitr")["rule"].(map[string]any); r["ruleDisabled"] != false {
		t.Errorf("after enable-topic-rule: ruleDisabled = %v", r["ruleDisabled"])
	}

	replacement := `{"sql":"SELECT state.reported FROM 'devices/+/telemetry' WHERE temp > 30","actions":[{"republish":{"roleArn":"arn:aws:iam::123456789012:role/iot-republish","topic":"alerts/${topic(2)}","qos":1}}],"errorAction":{"republish":{"roleArn":"arn:aws:iam::123456789012:role/iot-republish","topic":"rule-errors"}}}`
	mustCLI("replace-topic-rule", "--rule-name", "jitr", "--topic-rule-payload", replacement)
	r := mustCLI("get-topic-rule", "--rule-name", "jitr")["rule"].(map[string]any)
	var rep map[string]any
	if err := json.Unmarshal([]byte(replacement), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sql", "actions", "errorAction"} {
		if d := cmp.Diff(rep[k], r[k]); d != "" {
			t.Errorf("after replace-topic-rule, %s (-sent +got):\n%s", k, d)
		}
	}
	if r["createdAt"] != createdAt || r["awsIotSqlVersion"] != registry.DefaultSQLVersion || r["ruleDisabled"] != false {
		t.Errorf("after replace-topic-rule: createdAt %v (was %v), awsIotSqlVersion %v, ruleDisabled %v; want the creation time kept, %s, false",
			r["createdAt"], createdAt, r["awsIotSqlVersion"], r["ruleDisabled"], registry.DefaultSQLVersion)
	}
	if _, ok := r["description"]; ok {
		t.Errorf("after a replace without a description: description = %v, want none", r["description"])
	}
	item := mustCLI("list-topic-rules")["rules"].([]any)[0].(map[string]any)
	if item["topicPattern"] != "devices/+/telemetry" {
		t.Errorf("topicPattern after replace = %v, want devices/+/telemetry", item["topicPattern"])
	}

	mustCLI("delete-topic-rule", "--rule-name", "jitr")
	out, err := awsCLI("get-topic-rule", "--rule-name", "jitr")
	if err == nil || !strings.Contains(out, "An error occurred (UnauthorizedException) when calling the GetTopicRule operation") {
		t.Errorf("get-topic-rule of a deleted rule: %v\n%s\nwant UnauthorizedException", err, out)
	}
	if got := mustCLI("list-topic-rules")["rules"]; len(got.([]any)) != 0 {
		t.Errorf("list-topic-rules after delete: %v, want none", got)
	}
}

// TestTopicRuleErrorsSDK checks AWS's errors for topic rules with the AWS
// SDK for Go v2: each is the SDK's typed error.
func TestTopicRuleErrorsSDK(t *testing.T) {
	srv := newRuleAPI(t)
	c := sdkClient(srv.URL)
	ctx := t.Context()
	lambda := types.Action{Lambda: &types.LambdaAction{FunctionArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f")}}
	payload := func(sql string, actions ...types.Action) *types.TopicRulePayload {
		if actions == nil {
			actions = []types.Action{lambda}
		}
		return &types.TopicRulePayload{Sql: aws.String(sql), Actions: actions}
	}
	create := func(name string, p *types.TopicRulePayload) error {
		_, err := c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String(name), TopicRulePayload: p})
		return err
	}
	if err := create("r1", payload("SELECT * FROM 'a/b'")); err != nil {
		t.Fatalf("CreateTopicRule: %v", err)
	}
	eleven := make([]types.Action, 11)
	for i := range eleven {
		eleven[i] = lambda
	}
	tests := []struct {
		name    string
		call    func() error
		want    any    // a pointer to the SDK's error type
		message string // in the message
	}{
		{"bad name", func() error { return create("bad-name", payload("SELECT * FROM 'a'")) },
			new(*types.InvalidRequestException), "ruleName"},
		{"name too long", func() error { return create(strings.Repeat("r", 129), payload("SELECT * FROM 'a'")) },
			new(*types.InvalidRequestException), "ruleName"},
		{"duplicate", func() error { return create("r1", payload("SELECT * FROM 'other'")) },
			new(*types.ResourceAlreadyExistsException), "r1"},
		{"bad SQL", func() error { return create("r2", payload("SELECT * WHERE x")) },
			new(*types.SqlParseException), "line 1:"},
		{"unknown SQL version", func() error {
			p := payload("SELECT * FROM 'a'")
			p.AwsIotSqlVersion = aws.String("2099-01-01")
			return create("r2", p)
		}, new(*types.InvalidRequestException), "2099-01-01"},
		{"an action with two members", func() error {
			two := lambda
			two.Http = &types.HttpAction{Url: aws.String("https://example.com")}
			return create("r2", payload("SELECT * FROM 'a'", two))
		}, new(*types.InvalidRequestException), "(http, lambda)"},
		{"an action with none", func() error { return create("r2", payload("SELECT * FROM 'a'", types.Action{})) },
			new(*types.InvalidRequestException), "names no action"},
		{"eleven actions", func() error { return create("r2", payload("SELECT * FROM 'a'", eleven...)) },
			new(*types.InvalidRequestException), "less than or equal to 10"},
		{"an error action with no member", func() error {
			p := payload("SELECT * FROM 'a'")
			p.ErrorAction = &types.Action{}
			return create("r2", p)
		}, new(*types.InvalidRequestException), "errorAction"},
		{"get a missing rule", func() error {
			_, err := c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: aws.String("missing")})
			return err
		}, new(*types.UnauthorizedException), "missing"},
		{"replace a missing rule", func() error {
			_, err := c.ReplaceTopicRule(ctx, &iot.ReplaceTopicRuleInput{RuleName: aws.String("missing"), TopicRulePayload: payload("SELECT * FROM 'a'")})
			return err
		}, new(*types.UnauthorizedException), "missing"},
		{"enable a missing rule", func() error {
			_, err := c.EnableTopicRule(ctx, &iot.EnableTopicRuleInput{RuleName: aws.String("missing")})
			return err
		}, new(*types.UnauthorizedException), "missing"},
		{"disable a missing rule", func() error {
			_, err := c.DisableTopicRule(ctx, &iot.DisableTopicRuleInput{RuleName: aws.String("missing")})
			return err
		}, new(*types.UnauthorizedException), "missing"},
		{"delete a missing rule", func() error {
			_, err := c.DeleteTopicRule(ctx, &iot.DeleteTopicRuleInput{RuleName: aws.String("missing")})
			return err
		}, new(*types.UnauthorizedException), "missing"},
		{"replace with bad SQL", func() error {
			_, err := c.ReplaceTopicRule(ctx, &iot.ReplaceTopicRuleInput{RuleName: aws.String("r1"), TopicRulePayload: payload("SELECT FROM")})
			return err
		}, new(*types.SqlParseException), "line 1:8"},
		{"maxResults above 10000", func() error {
			_, err := c.ListTopicRules(ctx, &iot.ListTopicRulesInput{MaxResults: aws.Int32(10001)})
			return err
		}, new(*types.InvalidRequestException), "less than or equal to 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !errors.As(err, tt.want) {
				t.Fatalf("got %v, want %T", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
	var exists *types.ResourceAlreadyExistsException
	if err := create("r1", payload("SELECT * FROM 'a'")); errors.As(err, &exists) &&
		aws.ToString(exists.ResourceArn) != "arn:aws:iot:us-east-1:123456789012:rule/r1" {
		t.Errorf("ResourceAlreadyExistsException.ResourceArn = %q", aws.ToString(exists.ResourceArn))
	}
	got, err := c.GetTopicRule(ctx, &iot.GetTopicRuleInput{RuleName: aws.String("r1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Rule.Sql) != "SELECT * FROM 'a/b'" {
		t.Errorf("a failed replace changed the rule: sql %q", aws.ToString(got.Rule.Sql))
	}
}

// TestTopicRuleListingSDK pages through rules with the SDK's paginator and
// filters them by topic and state.
func TestTopicRuleListingSDK(t *testing.T) {
	srv := newRuleAPI(t)
	c := sdkClient(srv.URL)
	ctx := t.Context()
	for i, name := range []string{"r_e", "r_a", "r_d", "r_b", "r_c"} {
		topic := "even"
		if i%2 == 1 {
			topic = "odd"
		}
		_, err := c.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String(name), TopicRulePayload: &types.TopicRulePayload{
			Sql:          aws.String("SELECT * FROM '" + topic + "'"),
			Actions:      []types.Action{},
			RuleDisabled: aws.Bool(name == "r_d"),
		}})
		if err != nil {
			t.Fatalf("CreateTopicRule(%s): %v", name, err)
		}
	}
	list := func(in *iot.ListTopicRulesInput) []string {
		t.Helper()
		var names []string
		pages := 0
		for p := iot.NewListTopicRulesPaginator(c, in); p.HasMorePages(); pages++ {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListTopicRules: %v", err)
			}
			for _, r := range out.Rules {
				names = append(names, aws.ToString(r.RuleName))
			}
		}
		return names
	}
	tests := []struct {
		name string
		in   iot.ListTopicRulesInput
		want []string
	}{
		{"all, two at a time", iot.ListTopicRulesInput{MaxResults: aws.Int32(2)}, []string{"r_a", "r_b", "r_c", "r_d", "r_e"}},
		{"all at once", iot.ListTopicRulesInput{MaxResults: aws.Int32(10000)}, []string{"r_a", "r_b", "r_c", "r_d", "r_e"}},
		{"topic", iot.ListTopicRulesInput{Topic: aws.String("even"), MaxResults: aws.Int32(1)}, []string{"r_c", "r_d", "r_e"}},
		{"topic is matched exactly", iot.ListTopicRulesInput{Topic: aws.String("eve")}, nil},
		{"disabled", iot.ListTopicRulesInput{RuleDisabled: aws.Bool(true)}, []string{"r_d"}},
		{"enabled with a topic", iot.ListTopicRulesInput{RuleDisabled: aws.Bool(false), Topic: aws.String("even")}, []string{"r_c", "r_e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, list(&tt.in)); d != "" {
				t.Errorf("rules (-want +got):\n%s", d)
			}
		})
	}
}

// TestTopicRuleRawPayloads sends what the SDKs cannot: unknown or
// incomplete actions, checked by the server, and payloads it must keep as
// they were sent.
func TestTopicRuleRawPayloads(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	api, _ := newAPI(t, func(s *awsapi.Server) {
		s.Registry = &registry.Service{Store: db, Account: s.Registry.Account}
		s.RuleSQL = fakeRuleSQL{}
	})
	tests := []struct {
		name, body string
		code       string // "" for success
		message    string // in the message
	}{
		{"unknown action", `{"sql":"SELECT * FROM 'a'","actions":[{"foo":{"x":1}}]}`,
			"InvalidRequestException", `unknown action "foo"`},
		{"republish without a topic", `{"sql":"SELECT * FROM 'a'","actions":[{"republish":{"roleArn":"arn:aws:iam::123456789012:role/r"}}]}`,
			"InvalidRequestException", "topicRulePayload.actions[0].republish.topic must not be null"},
		{"http without a url", `{"sql":"SELECT * FROM 'a'","actions":[{"http":{}}]}`,
			"InvalidRequestException", "http.url"},
		{"an action that is not an object", `{"sql":"SELECT * FROM 'a'","actions":["lambda"]}`,
			"InvalidRequestException", "actions[0]"},
		{"no sql", `{"actions":[]}`, "InvalidRequestException", "sql"},
		{"no actions", `{"sql":"SELECT * FROM 'a'"}`, "InvalidRequestException", "actions"},
		{"too large", `{"sql":"SELECT * FROM 'a'","description":"` + strings.Repeat("d", registry.MaxTopicRuleBytes) + `","actions":[]}`,
			"InvalidRequestException", "the limit is 262144"},
		{"an unknown member of a known action is kept", `{"sql":"SELECT * FROM 'a'","actions":[{"lambda":{"functionArn":"arn:f","future":true}}]}`, "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serve(t, api, signed{method: "POST", target: fmt.Sprintf("/rules/raw%d", i), body: tt.body}.request(t))
			if tt.code == "" {
				if got.Status != http.StatusOK {
					t.Fatalf("answer %d %s (%s), want 200", got.Status, got.Code, got.Message)
				}
				return
			}
			if got.Status != http.StatusBadRequest || got.Code != tt.code || !strings.Contains(got.Message, tt.message) {
				t.Errorf("answer %d %s %q, want 400 %s containing %q", got.Status, got.Code, got.Message, tt.code, tt.message)
			}
		})
	}
	// The kept rule reads back with its unknown member.
	w := httptest.NewRecorder()
	api.ServeHTTP(w, signed{target: "/rules/raw7"}.request(t))
	if !strings.Contains(w.Body.String(), `"actions":[{"lambda":{"functionArn":"arn:f","future":true}}]`) {
		t.Errorf("GetTopicRule = %s, want the action as sent", w.Body)
	}
}

// failingStore fails every transaction with an error that is not an AWS
// error, as a broken disk would.
type failingStore struct{}

var errDisk = errors.New("disk on fire")

func (failingStore) Update(context.Context, func(registry.Tx) error) error { return errDisk }
func (failingStore) View(context.Context, func(registry.Tx) error) error   { return errDisk }
func (failingStore) Read(context.Context, func(registry.Tx) error) error   { return errDisk }

// TestTopicRuleInternalException checks that an unexpected failure of a
// topic-rule operation is InternalException, as the model names it, and
// that without a SQL parser rules cannot be saved.
func TestTopicRuleInternalException(t *testing.T) {
	api, _ := newAPI(t, func(s *awsapi.Server) {
		s.Registry = &registry.Service{Store: failingStore{}, Account: s.Registry.Account}
		s.RuleSQL = fakeRuleSQL{}
	})
	for _, req := range []signed{
		{target: "/rules/r1"},
		{target: "/rules"},
		{method: "POST", target: "/rules/r1/enable"},
		{method: "DELETE", target: "/rules/r1"},
		{method: "POST", target: "/rules/r1", body: `{"sql":"SELECT * FROM 'a'","actions":[]}`},
	} {
		got := serve(t, api, req.request(t))
		if got.Status != http.StatusInternalServerError || got.Code != "InternalException" || strings.Contains(got.Message, "fire") {
			t.Errorf("%s %s: answer %d %s %q, want 500 InternalException without the cause", or(req.method, "GET"), req.target, got.Status, got.Code, got.Message)
		}
	}
	noParser, _ := newAPI(t, func(s *awsapi.Server) {
		s.Registry = &registry.Service{Store: failingStore{}, Account: iotcore.Account{ID: "123456789012", Region: "us-east-1"}}
	})
	got := serve(t, noParser, signed{method: "POST", target: "/rules/r1", body: `{"sql":"SELECT * FROM 'a'","actions":[]}`}.request(t))
	if got.Code != "InternalException" || !strings.Contains(got.Message, "SQL parser") {
		t.Errorf("CreateTopicRule without a parser: %d %s %q, want InternalException", got.Status, got.Code, got.Message)
	}
}
