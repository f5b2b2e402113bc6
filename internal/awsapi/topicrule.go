package awsapi

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// RuleSQL reads the topic filter of a rule's SQL: the FROM clause, as the
// rules engine will subscribe with it. The server wires the IoT SQL parser
// into it. An *iot.Error it returns reaches the client as it is; any other
// error is the parser's, and becomes a SqlParseException whose message is
// err.Error() (which should name the position).
type RuleSQL interface {
	Topic(sql, version string) (topicPattern string, err error)
}

// ActionChecker is what a RuleSQL may also do: check the actions as the
// rules engine will read them (substitution templates, members), so that
// a rule that could never run is refused with InvalidRequestException
// rather than saved.
type ActionChecker interface {
	CheckActions(actions []json.RawMessage, errorAction json.RawMessage) error
}

// The topic-rule operations answer unexpected failures with
// InternalException, not InternalFailureException (reference 2.6; the
// model lists no InternalFailureException for them), and SQL the parser
// refuses with SqlParseException.
const (
	internalException = "InternalException"
	sqlParseException = "SqlParseException"
)

// ruleOp wraps a topic-rule handler so that an unexpected error is an
// InternalException, whose cause is logged and never sent.
func ruleOp(h handlerFunc) handlerFunc {
	return func(s *Server, r *request) (any, error) {
		out, err := h(s, r)
		var e *iot.Error
		if err != nil && !errors.As(err, &e) {
			err = &iot.Error{Code: internalException, Message: "an internal error occurred", Err: err}
		}
		return out, err
	}
}

// topicRulePayload is the model's TopicRulePayload, the whole body of
// CreateTopicRule and ReplaceTopicRule. Actions are kept as sent.
type topicRulePayload struct {
	SQL              *string           `json:"sql"`
	Description      string            `json:"description"`
	Actions          []json.RawMessage `json:"actions"`
	RuleDisabled     bool              `json:"ruleDisabled"`
	AwsIotSqlVersion string            `json:"awsIotSqlVersion"`
	ErrorAction      json.RawMessage   `json:"errorAction"`
}

// topicRule reads the payload of a create or replace: its shape is checked
// (registry.CheckTopicRule), then its SQL parsed for the topic pattern.
func (s *Server) topicRule(r *request) (registry.TopicRule, error) {
	name := r.label("ruleName")
	if err := registry.RuleNameRule.Check(name); err != nil {
		return registry.TopicRule{}, err
	}
	var in topicRulePayload
	if err := r.decode(&in); err != nil {
		return registry.TopicRule{}, err
	}
	if in.SQL == nil {
		return registry.TopicRule{}, iot.Errorf(iot.InvalidRequest, "topicRulePayload.sql must not be null")
	}
	rule := registry.TopicRule{
		Name:         name,
		SQL:          *in.SQL,
		Description:  in.Description,
		Actions:      in.Actions,
		ErrorAction:  in.ErrorAction,
		RuleDisabled: in.RuleDisabled,
		SQLVersion:   in.AwsIotSqlVersion,
	}
	if err := registry.CheckTopicRule(&rule); err != nil {
		return registry.TopicRule{}, err
	}
	if s.RuleSQL == nil {
		return registry.TopicRule{}, &iot.Error{Code: internalException,
			Message: "this iotcore server has no IoT SQL parser configured; topic rules cannot be saved"}
	}
	topic, err := s.RuleSQL.Topic(rule.SQL, rule.SQLVersion)
	if err != nil {
		var e *iot.Error
		if errors.As(err, &e) {
			return registry.TopicRule{}, err
		}
		return registry.TopicRule{}, &iot.Error{Code: sqlParseException, Message: err.Error(), Err: err}
	}
	rule.TopicPattern = topic
	if c, ok := s.RuleSQL.(ActionChecker); ok {
		if err := c.CheckActions(rule.Actions, rule.ErrorAction); err != nil {
			return registry.TopicRule{}, iot.Errorf(iot.InvalidRequest, "%v", err)
		}
	}
	return rule, nil
}

// ruleTags reads CreateTopicRule's tags from the x-amz-tagging header, a
// URL query string: key1=value1&key2=value2 [MODEL].
func ruleTags(r *request) ([]iot.Tag, error) {
	h := r.Header.Get("x-amz-tagging")
	if h == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(h)
	if err != nil {
		return nil, iot.Errorf(iot.InvalidRequest, "the x-amz-tagging header is not key1=value1&key2=value2: %v", err)
	}
	tags := make([]iot.Tag, 0, len(q))
	for k, v := range q {
		if len(v) > 1 {
			return nil, iot.Errorf(iot.InvalidRequest, "the x-amz-tagging header names the tag %q %d times", k, len(v))
		}
		tags = append(tags, iot.Tag{Key: k, Value: v[0]})
	}
	slices.SortFunc(tags, func(a, b iot.Tag) int { return strings.Compare(a.Key, b.Key) })
	return tags, nil
}

func createTopicRule(s *Server, r *request) (any, error) {
	rule, err := s.topicRule(r)
	if err != nil {
		return nil, err
	}
	tags, err := ruleTags(r)
	if err != nil {
		return nil, err
	}
	_, err = s.Registry.CreateTopicRule(r.Context(), rule, tags)
	return nil, err
}

func replaceTopicRule(s *Server, r *request) (any, error) {
	rule, err := s.topicRule(r)
	if err != nil {
		return nil, err
	}
	_, err = s.Registry.ReplaceTopicRule(r.Context(), rule)
	return nil, err
}

func getTopicRule(s *Server, r *request) (any, error) {
	rule, err := s.Registry.TopicRule(r.Context(), r.label("ruleName"))
	if err != nil {
		return nil, err
	}
	out := obj{
		"ruleName":         rule.Name,
		"sql":              rule.SQL,
		"createdAt":        epoch(rule.CreatedAt),
		"actions":          rule.Actions,
		"ruleDisabled":     rule.RuleDisabled,
		"awsIotSqlVersion": rule.SQLVersion,
	}
	if rule.Description != "" {
		out["description"] = rule.Description
	}
	if rule.ErrorAction != nil {
		out["errorAction"] = rule.ErrorAction
	}
	return obj{"ruleArn": rule.ARN, "rule": out}, nil
}

func listTopicRules(s *Server, r *request) (any, error) {
	n, err := r.rulePageSize()
	if err != nil {
		return nil, err
	}
	f := registry.TopicRuleFilter{Topic: r.query("topic")}
	if r.query("ruleDisabled") != "" {
		disabled, err := r.queryBool("ruleDisabled")
		if err != nil {
			return nil, err
		}
		f.RuleDisabled = &disabled
	}
	rules, next, err := s.Registry.ListTopicRules(r.Context(), f, registry.PageRequest{Token: r.query(tokens.token), Size: n})
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(rules))
	for _, rule := range rules {
		out = append(out, obj{
			"ruleArn":      rule.ARN,
			"ruleName":     rule.Name,
			"topicPattern": rule.TopicPattern,
			"createdAt":    epoch(rule.CreatedAt),
			"ruleDisabled": rule.RuleDisabled,
		})
	}
	return withNext(obj{"rules": out}, tokens.next, next), nil
}

// rulePageSize reads ListTopicRules' maxResults, which the model bounds to
// 1..10000 (TopicRuleMaxResults) rather than the 1..250 of other listings.
func (r *request) rulePageSize() (int, error) {
	return r.pageSizeUpTo("maxResults", registry.MaxTopicRulePageSize)
}

func enableTopicRule(s *Server, r *request) (any, error) {
	return nil, s.Registry.SetTopicRuleDisabled(r.Context(), r.label("ruleName"), false)
}

func disableTopicRule(s *Server, r *request) (any, error) {
	return nil, s.Registry.SetTopicRuleDisabled(r.Context(), r.label("ruleName"), true)
}

func deleteTopicRule(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeleteTopicRule(r.Context(), r.label("ruleName"))
}
