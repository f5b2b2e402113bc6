package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/iottest"
)

// TestTopicRulesThroughBroker: rules made with the SDK act on a device's
// messages at once (republish with substitution templates, a WHERE that
// filters), stop when disabled, take Basic Ingest messages, and send a
// failing action's report to the errorAction.
func TestTopicRulesThroughBroker(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	dev := ts.observer(t) // allowed everything
	got := make(chan paho.Message, 16)
	for _, f := range []string{"alerts/#", "errors/#", "$aws/rules/#"} {
		if tok := dev.Subscribe(f, 1, func(_ paho.Client, m paho.Message) { got <- m }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
	}
	publish := func(topic, payload string) {
		t.Helper()
		if tok := dev.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	next := func() paho.Message { t.Helper(); return iottest.Receive(t, got, "a message") }

	must[*iot.CreateTopicRuleOutput](t)(ts.client.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("hot"),
		TopicRulePayload: &types.TopicRulePayload{
			Sql:              aws.String("SELECT temp, clientid() AS device FROM 'sensors/+/data' WHERE temp > 50"),
			AwsIotSqlVersion: aws.String("2016-03-23"),
			Actions: []types.Action{{Republish: &types.RepublishAction{Topic: aws.String("alerts/${topic(2)}"), Qos: aws.Int32(1),
				RoleArn: aws.String("arn:aws:iam::123456789012:role/republish")}}},
		}}))
	publish("sensors/d1/data", `{"temp": 40}`)
	publish("sensors/d1/data", `{"temp": 60}`)
	m := next()
	var body map[string]any
	if err := json.Unmarshal(m.Payload(), &body); m.Topic() != "alerts/d1" || err != nil || body["temp"] != 60.0 || body["device"] == "" {
		t.Fatalf("got %s %s", m.Topic(), m.Payload())
	}

	// Basic Ingest: the rule alone, no subscriber ($aws/rules/# above).
	publish("$aws/rules/hot/sensors/d2/data", `{"temp": 70}`)
	if m := next(); m.Topic() != "alerts/d2" {
		t.Fatalf("got %s %s; want alerts/d2 (and not the Basic Ingest message itself)", m.Topic(), m.Payload())
	}

	// Disabled, the rule is silent: the marker published after the device's
	// message is the next thing to arrive.
	must[*iot.DisableTopicRuleOutput](t)(ts.client.DisableTopicRule(ctx, &iot.DisableTopicRuleInput{RuleName: aws.String("hot")}))
	publish("sensors/d3/data", `{"temp": 80}`)
	publish("alerts/marker", `{}`)
	if m := next(); m.Topic() != "alerts/marker" {
		t.Fatalf("a disabled rule acted: %s %s", m.Topic(), m.Payload())
	}

	// A lambda action with no function behind it fails; the errorAction gets AWS's report.
	must[*iot.CreateTopicRuleOutput](t)(ts.client.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("fails"),
		TopicRulePayload: &types.TopicRulePayload{
			Sql:     aws.String("SELECT * FROM 'fail/+'"),
			Actions: []types.Action{{Lambda: &types.LambdaAction{FunctionArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:missing")}}},
			ErrorAction: &types.Action{Republish: &types.RepublishAction{Topic: aws.String("errors/${topic(2)}"),
				RoleArn: aws.String("arn:aws:iam::123456789012:role/republish")}},
		}}))
	publish("fail/x", `{"v": 1}`)
	m = next()
	if m.Topic() != "errors/x" || !strings.Contains(string(m.Payload()), `"failedAction":"LambdaAction"`) || !strings.Contains(string(m.Payload()), `"ruleName":"fails"`) {
		t.Fatalf("errorAction got %s %s", m.Topic(), m.Payload())
	}

	// The failure is listed by the API.
	var failures struct {
		Failures []map[string]any `json:"failures"`
	}
	if err := json.Unmarshal(ts.signedGet(t, "/iotcore/rule-failures?ruleName=fails"), &failures); err != nil {
		t.Fatal(err)
	}
	if len(failures.Failures) != 1 || failures.Failures[0]["failedAction"] != "LambdaAction" || failures.Failures[0]["topic"] != "fail/x" ||
		!strings.Contains(failures.Failures[0]["errorMessage"].(string), "missing") {
		t.Errorf("rule failures: %+v", failures.Failures)
	}

	// A substitution template the engine cannot read is refused, not saved.
	_, err := ts.client.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("badtemplate"),
		TopicRulePayload: &types.TopicRulePayload{Sql: aws.String("SELECT * FROM 'x'"),
			Actions: []types.Action{{Republish: &types.RepublishAction{Topic: aws.String("out/${topic(}"), RoleArn: aws.String("r")}}}}})
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) || !strings.Contains(ire.ErrorMessage(), "republish") {
		t.Fatalf("bad template: %v", err)
	}

	// Bad SQL is refused with its position.
	_, err = ts.client.CreateTopicRule(ctx, &iot.CreateTopicRuleInput{RuleName: aws.String("bad"),
		TopicRulePayload: &types.TopicRulePayload{Sql: aws.String("SELECT * FORM 'x'"), Actions: []types.Action{}}})
	var spe *types.SqlParseException
	if !errors.As(err, &spe) || !strings.Contains(spe.ErrorMessage(), "1:") {
		t.Fatalf("bad SQL: %v", err)
	}
}
