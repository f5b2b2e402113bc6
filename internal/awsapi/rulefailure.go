package awsapi

import (
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// RuleFailure is one failed action of a topic rule.
type RuleFailure struct {
	At       time.Time
	Rule     string
	Topic    string // the message's topic
	ClientID string // the publisher's; "" for the server's own messages
	Action   string // AWS's name: RepublishAction, LambdaAction, HttpAction, ...
	Resource string // the topic, function ARN or URL acted on
	Message  string
}

// RuleFailures gives the rules engine's latest action failures, newest first.
type RuleFailures interface {
	RuleFailures() []RuleFailure
}

// listTopicRuleFailures is iotcore's own operation (GET
// /iotcore/rule-failures?ruleName=): the latest failures of rules' actions,
// newest first, as the errorAction and the failure events report them.
func listTopicRuleFailures(s *Server, r *request) (any, error) {
	if s.RuleFailures == nil {
		return nil, iot.Errorf(iot.NotConfigured, "this server runs no rules engine")
	}
	name := r.query("ruleName")
	out := []obj{}
	for _, f := range s.RuleFailures.RuleFailures() {
		if name != "" && f.Rule != name {
			continue
		}
		o := obj{"timestamp": epoch(f.At), "ruleName": f.Rule, "topic": f.Topic, "failedAction": f.Action, "errorMessage": f.Message}
		if f.ClientID != "" {
			o["clientId"] = f.ClientID
		}
		if f.Resource != "" {
			o["failedResource"] = f.Resource
		}
		out = append(out, o)
	}
	return obj{"failures": out}, nil
}
