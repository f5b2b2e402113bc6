package server

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/iotcore/iotcore/internal/awsapi"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/iotsql"
	"github.com/iotcore/iotcore/internal/metrics"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/rules"
)

// openRules starts the rules engine with the stored rules. It publishes
// through the broker and calls functions through s.functions, both set up
// later in Open, before any message flows.
func (s *Server) openRules(ctx context.Context) error {
	s.rules = rules.Open(rules.Config{
		Publisher: rulesPublisher{s},
		Functions: &s.functions,
		Logger:    s.Config.Logger,
		Metrics:   s.Metrics,
	})
	exportRulesStats(s.Metrics, s.rules)
	return s.reloadRules(ctx)
}

// reloadRules gives the engine the rules as the registry holds them now. A
// rule that does not compile is logged and left out; the others run.
func (s *Server) reloadRules(ctx context.Context) error {
	all, err := s.Registry.AllTopicRules(ctx)
	if err != nil {
		return err
	}
	if err := s.rules.Load(all); err != nil {
		s.Config.Logger.Error("rules: some rules do not run", "error", err)
	}
	return nil
}

// onRulesChange reloads the engine when a committed change touched a rule,
// so that the API's answer comes once the rule is in effect.
func (s *Server) onRulesChange(events []registry.Event) {
	if !slices.ContainsFunc(events, func(e registry.Event) bool { return e.Kind == registry.TopicRuleChanged }) {
		return
	}
	if err := s.reloadRules(context.Background()); err != nil {
		s.Config.Logger.Error("rules: reloading the rules after a change", "error", err)
	}
}

// rulesPublisher publishes the engine's messages through the broker, which
// is opened after the engine.
type rulesPublisher struct{ s *Server }

func (p rulesPublisher) PublishFromRules(topic string, payload []byte, qos byte) error {
	return p.s.Broker.PublishFromRules(topic, payload, qos)
}

// exportRulesStats exports the engine's counters.
func exportRulesStats(m *metrics.Metrics, e *rules.Engine) {
	for _, c := range []struct {
		name, help string
		value      func(rules.Stats) int64
	}{
		{"rules_messages_total", "Messages the rules engine evaluated.", func(s rules.Stats) int64 { return s.Messages }},
		{"rules_matched_total", "Messages a rule's SQL selected (one per message and rule).", func(s rules.Stats) int64 { return s.Matched }},
		{"rules_dropped_total", "Messages the rules engine dropped: its queue was full.", func(s rules.Stats) int64 { return s.Dropped }},
		{"rules_looped_total", "Republished messages not evaluated again: they went through rules.MaxHops republish actions.", func(s rules.Stats) int64 { return s.Looped }},
		{"rules_failures_total", "Rule actions (and SQL evaluations) that failed.", func(s rules.Stats) int64 { return s.Failures }},
	} {
		value := c.value
		m.CounterFunc(c.name, c.help, func() float64 { return float64(value(e.Stats())) })
	}
}

// ruleSQL reads a rule's SQL for the API: its FROM topic filter, or the
// parser's error (a SqlParseException); an awsIotSqlVersion the parser does
// not know is an InvalidRequestException.
type ruleSQL struct{}

func (ruleSQL) Topic(sql, version string) (string, error) {
	stmt, err := iotsql.Parse(sql, version)
	if err != nil {
		if pe := (*iotsql.ParseError)(nil); !errors.As(err, &pe) {
			return "", iot.Errorf(iot.InvalidRequest, "%v", err)
		}
		return "", err
	}
	return stmt.Topic(), nil
}

// CheckActions refuses actions the engine could not run (rules.CheckActions).
func (ruleSQL) CheckActions(actions []json.RawMessage, errorAction json.RawMessage) error {
	return rules.CheckActions(actions, errorAction)
}

// ruleFailures gives the API the engine's latest failures.
type ruleFailures struct{ e *rules.Engine }

func (f ruleFailures) RuleFailures() []awsapi.RuleFailure {
	list := f.e.Failures()
	out := make([]awsapi.RuleFailure, len(list))
	for i, x := range list {
		out[i] = awsapi.RuleFailure{At: x.At, Rule: x.Rule, Topic: x.Topic, ClientID: x.ClientID, Action: x.Action,
			Resource: x.Resource, Message: x.Message}
	}
	return out
}
