package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// TopicRule is a rule of the rules engine: the messages its SQL selects, and
// the actions that receive what the SQL makes of them. The actions are kept
// as the JSON objects the client sent, one member of the model's Action
// structure each, so that GetTopicRule answers them unchanged and actions
// iotcore cannot run are still stored.
type TopicRule struct {
	Name string
	// ARN is set by the Service on every rule it returns; stores neither
	// keep nor return it.
	ARN          string
	SQL          string
	Description  string
	Actions      []json.RawMessage // each a JSON object with one Action member; never nil when read from a store
	ErrorAction  json.RawMessage   // nil when the rule has none
	RuleDisabled bool
	SQLVersion   string // awsIotSqlVersion; DefaultSQLVersion when the client named none
	// TopicPattern is the topic filter of the SQL's FROM clause, as the
	// rules engine's parser read it when the rule was created or replaced.
	TopicPattern string
	CreatedAt    time.Time
}

// Topic-rule limits and defaults, from the model and AWS's quotas
// (reference 9: "≤10 actions/rule, rule ≤256 KB").
const (
	// MaxTopicRuleActions is the model's bound on ActionList.
	MaxTopicRuleActions = 10
	// MaxTopicRuleBytes bounds a rule's payload: its SQL, description,
	// SQL version, actions and error action together.
	MaxTopicRuleBytes = 256 << 10
	// MaxTopicRulePageSize is the model's bound on ListTopicRules'
	// maxResults (TopicRuleMaxResults), larger than every other listing's.
	MaxTopicRulePageSize = 10000
	// DefaultSQLVersion is the SQL version of a rule created without one
	// (AWS: "If you don't specify a version, 2015-10-08 is used").
	DefaultSQLVersion = "2015-10-08"
)

// SQLVersions are the awsIotSqlVersion values AWS accepts.
var SQLVersions = []string{"2015-10-08", "2016-03-23", "beta"}

// RuleNameRule is the model's RuleName shape.
var RuleNameRule = iot.NameRule{What: "ruleName", Min: 1, Max: 128, Pattern: regexp.MustCompile(`^[a-zA-Z0-9_]+$`)}

// TopicRuleActions lists the members of the model's Action structure, each
// with the members its own structure requires. TestTopicRuleActionsMatchModel
// (internal/awsapi) checks it against the botocore model.
var TopicRuleActions = map[string][]string{
	"dynamoDB":         {"tableName", "roleArn", "hashKeyField", "hashKeyValue"},
	"dynamoDBv2":       {"roleArn", "putItem"},
	"lambda":           {"functionArn"},
	"sns":              {"targetArn", "roleArn"},
	"sqs":              {"roleArn", "queueUrl"},
	"kinesis":          {"roleArn", "streamName"},
	"republish":        {"roleArn", "topic"},
	"s3":               {"roleArn", "bucketName", "key"},
	"firehose":         {"roleArn", "deliveryStreamName"},
	"cloudwatchMetric": {"roleArn", "metricNamespace", "metricName", "metricValue", "metricUnit"},
	"cloudwatchAlarm":  {"roleArn", "alarmName", "stateReason", "stateValue"},
	"cloudwatchLogs":   {"roleArn", "logGroupName"},
	"elasticsearch":    {"roleArn", "endpoint", "index", "type", "id"},
	"salesforce":       {"token", "url"},
	"iotAnalytics":     {},
	"iotEvents":        {"inputName", "roleArn"},
	"iotSiteWise":      {"putAssetPropertyValueEntries", "roleArn"},
	"stepFunctions":    {"stateMachineName", "roleArn"},
	"timestream":       {"roleArn", "databaseName", "tableName", "dimensions"},
	"http":             {"url"},
	"kafka":            {"destinationArn", "topic", "clientProperties"},
	"openSearch":       {"roleArn", "endpoint", "index", "type", "id"},
	"location":         {"roleArn", "trackerName", "deviceId", "latitude", "longitude"},
}

// TopicRuleARN returns the ARN of a topic rule, arn:aws:iot:REGION:ACCOUNT:rule/NAME.
func (s *Service) TopicRuleARN(name string) string { return s.Account.ARN("rule/" + name) }

// ruleNotFound is AWS's answer for a topic rule that does not exist:
// UnauthorizedException (401), not ResourceNotFoundException. The model
// lists no ResourceNotFoundException for any topic-rule operation, and
// clients expect the 401 (SaltStack's boto_iot.topic_rule_exists:
// "Nonexistent rules show up as unauthorized exceptions"; Terraform issue
// hashicorp/terraform-provider-aws#12520).
func ruleNotFound(err error, name string) error {
	if errors.Is(err, ErrNotFound) {
		return &iot.Error{Code: iot.Unauthorized, Message: fmt.Sprintf("topic rule %s does not exist", name), Err: err}
	}
	return err
}

// CheckSQLVersion returns the SQL version a rule is saved with: v, or
// DefaultSQLVersion when v is empty. A version AWS does not know is an
// InvalidRequestException.
func CheckSQLVersion(v string) (string, error) {
	if v == "" {
		return DefaultSQLVersion, nil
	}
	if !slices.Contains(SQLVersions, v) {
		return "", iot.Errorf(iot.InvalidRequest, "awsIotSqlVersion %q is not one of %s", v, strings.Join(SQLVersions, ", "))
	}
	return v, nil
}

// CheckTopicRule validates a rule's name and payload as AWS does before it
// is stored, and sets the defaults (the SQL version; no error action for a
// null one): the model's required members and bounds, one known Action
// member per action with the members that action requires, and the size
// limit. It does not parse the SQL: the caller does, and sets TopicPattern.
// CreateTopicRule and ReplaceTopicRule call it; the API calls it first too,
// so that a payload is refused for its shape before its SQL is parsed.
func CheckTopicRule(r *TopicRule) error {
	if err := RuleNameRule.Check(r.Name); err != nil {
		return err
	}
	if strings.TrimSpace(r.SQL) == "" {
		return iot.Errorf(iot.InvalidRequest, "topicRulePayload.sql must not be empty")
	}
	if r.Actions == nil {
		return iot.Errorf(iot.InvalidRequest, "topicRulePayload.actions must not be null")
	}
	v, err := CheckSQLVersion(r.SQLVersion)
	if err != nil {
		return err
	}
	r.SQLVersion = v
	if n := len(r.Actions); n > MaxTopicRuleActions {
		return iot.Errorf(iot.InvalidRequest, "1 validation error detected: Value at 'topicRulePayload.actions' failed to satisfy constraint: "+
			"Member must have length less than or equal to %d (got %d actions)", MaxTopicRuleActions, n)
	}
	size := len(r.SQL) + len(r.Description) + len(r.SQLVersion) + len(r.ErrorAction)
	for i, a := range r.Actions {
		if err := checkAction(a, fmt.Sprintf("topicRulePayload.actions[%d]", i)); err != nil {
			return err
		}
		size += len(a)
	}
	if len(r.ErrorAction) > 0 && string(r.ErrorAction) != "null" {
		if err := checkAction(r.ErrorAction, "topicRulePayload.errorAction"); err != nil {
			return err
		}
	} else {
		r.ErrorAction = nil
	}
	if size > MaxTopicRuleBytes {
		return iot.Errorf(iot.InvalidRequest, "the topic rule is %d bytes; the limit is %d", size, MaxTopicRuleBytes)
	}
	return nil
}

// checkAction checks one Action object: exactly one member, known to the
// model, whose value is an object holding the members that action requires.
// Members of the action's own structure are not checked further: AWS
// validates them when the rule runs, and iotcore keeps them as sent.
func checkAction(raw json.RawMessage, where string) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return iot.Errorf(iot.InvalidRequest, "%s must be a JSON object with one action member", where)
	}
	var names []string
	for k, v := range members {
		if string(v) != "null" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		return iot.Errorf(iot.InvalidRequest, "%s names no action; give exactly one of %s", where, strings.Join(actionNames(), ", "))
	case 1:
	default:
		return iot.Errorf(iot.InvalidRequest, "%s names %d actions (%s); an action object holds exactly one", where, len(names), strings.Join(names, ", "))
	}
	name := names[0]
	required, ok := TopicRuleActions[name]
	if !ok {
		return iot.Errorf(iot.InvalidRequest, "%s: unknown action %q; the actions are %s", where, name, strings.Join(actionNames(), ", "))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(members[name], &fields); err != nil || fields == nil {
		return iot.Errorf(iot.InvalidRequest, "%s.%s must be a JSON object", where, name)
	}
	for _, f := range required {
		if v, ok := fields[f]; !ok || string(v) == "null" {
			return iot.Errorf(iot.InvalidRequest, "%s.%s.%s must not be null", where, name, f)
		}
	}
	return nil
}

func actionNames() []string {
	names := make([]string, 0, len(TopicRuleActions))
	for k := range TopicRuleActions {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// withARN sets the ARN of a rule read from the store.
func (s *Service) withARN(r *TopicRule) *TopicRule {
	r.ARN = s.TopicRuleARN(r.Name)
	return r
}

// CreateTopicRule creates a topic rule and tags it. The caller has parsed
// the SQL and set TopicPattern; CreatedAt is now.
func (s *Service) CreateTopicRule(ctx context.Context, r TopicRule, tags []iot.Tag) (*TopicRule, error) {
	if err := CheckTopicRule(&r); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(tags); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if _, err := tx.TopicRule(ctx, r.Name); err == nil {
			return iot.AlreadyExists("topic rule", r.Name, "", s.TopicRuleARN(r.Name))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		r.CreatedAt = c.now
		if err := tx.InsertTopicRule(ctx, &r); err != nil {
			return err
		}
		c.emit(TopicRuleChanged, r.Name)
		return tx.PutTags(ctx, s.TopicRuleARN(r.Name), tags)
	})
	if err != nil {
		return nil, err
	}
	return s.withARN(&r), nil
}

// ReplaceTopicRule replaces a topic rule's payload; its name, creation time
// and tags stay. The caller has parsed the SQL and set TopicPattern.
func (s *Service) ReplaceTopicRule(ctx context.Context, r TopicRule) (*TopicRule, error) {
	if err := CheckTopicRule(&r); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		old, err := tx.TopicRule(ctx, r.Name)
		if err != nil {
			return ruleNotFound(err, r.Name)
		}
		r.CreatedAt = old.CreatedAt
		if err := tx.UpdateTopicRule(ctx, &r); err != nil {
			return err
		}
		c.emit(TopicRuleChanged, r.Name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.withARN(&r), nil
}

// TopicRule returns a topic rule.
func (s *Service) TopicRule(ctx context.Context, name string) (*TopicRule, error) {
	if err := RuleNameRule.Check(name); err != nil {
		return nil, err
	}
	var r *TopicRule
	err := s.view(ctx, func(tx Tx) error {
		var err error
		r, err = tx.TopicRule(ctx, name)
		return ruleNotFound(err, name)
	})
	if err != nil {
		return nil, err
	}
	return s.withARN(r), nil
}

// ListTopicRules lists topic rules by name, those f selects. Its page size
// may be up to MaxTopicRulePageSize.
func (s *Service) ListTopicRules(ctx context.Context, f TopicRuleFilter, pr PageRequest) ([]TopicRule, string, error) {
	if pr.Size < 0 || pr.Size > MaxTopicRulePageSize {
		return nil, "", iot.Errorf(iot.InvalidRequest, "page size must be between 1 and %d, got %d", MaxTopicRulePageSize, pr.Size)
	}
	p, err := PageRequest{Token: pr.Token}.page() // the token, checked as for every listing
	if err != nil {
		return nil, "", err
	}
	if pr.Size > 0 {
		p.Limit = pr.Size + 1
	}
	var rows []TopicRule
	err = s.view(ctx, func(tx Tx) error {
		rows, err = tx.ListTopicRules(ctx, f, p)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := trim(rows, p, func(r TopicRule) string { return r.Name })
	for i := range rows {
		s.withARN(&rows[i])
	}
	return rows, next, nil
}

// AllTopicRules returns every topic rule, enabled or not, by name: what the
// rules engine loads at start and again after each TopicRuleChanged event.
func (s *Service) AllTopicRules(ctx context.Context) ([]TopicRule, error) {
	var rows []TopicRule
	err := s.view(ctx, func(tx Tx) error {
		var err error
		rows, err = tx.ListTopicRules(ctx, TopicRuleFilter{}, Page{})
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		s.withARN(&rows[i])
	}
	return rows, nil
}

// SetTopicRuleDisabled enables (disabled false) or disables a topic rule:
// EnableTopicRule and DisableTopicRule. Doing it twice is no error.
func (s *Service) SetTopicRuleDisabled(ctx context.Context, name string, disabled bool) error {
	if err := RuleNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		r, err := tx.TopicRule(ctx, name)
		if err != nil {
			return ruleNotFound(err, name)
		}
		r.RuleDisabled = disabled
		if err := tx.UpdateTopicRule(ctx, r); err != nil {
			return err
		}
		c.emit(TopicRuleChanged, name)
		return nil
	})
}

// DeleteTopicRule deletes a topic rule and its tags.
func (s *Service) DeleteTopicRule(ctx context.Context, name string) error {
	if err := RuleNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if err := tx.DeleteTopicRule(ctx, name); err != nil {
			return ruleNotFound(err, name)
		}
		c.emit(TopicRuleChanged, name)
		return tx.DeleteAllTags(ctx, s.TopicRuleARN(name))
	})
}
