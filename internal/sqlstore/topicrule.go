package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/iotcore/iotcore/internal/registry"
)

// Topic rules live in topic_rules. The actions are one JSON array of the
// Action objects as the client sent them (each element reads back byte for
// byte), the error action one object or '' for none.

const topicRuleColumns = `name, sql_text, description, actions, error_action, rule_disabled,
	sql_version, topic_pattern, created_at`

func scanTopicRule(sc scanner) (registry.TopicRule, error) {
	var r registry.TopicRule
	var actions, errorAction string
	var created int64
	if err := sc.Scan(&r.Name, &r.SQL, &r.Description, &actions, &errorAction, &r.RuleDisabled,
		&r.SQLVersion, &r.TopicPattern, &created); err != nil {
		return r, err
	}
	r.CreatedAt = fromMillis(created)
	if err := json.Unmarshal([]byte(actions), &r.Actions); err != nil {
		return r, fmt.Errorf("actions of topic rule %q: %w", r.Name, err)
	}
	if r.Actions == nil {
		r.Actions = []json.RawMessage{}
	}
	if errorAction != "" {
		r.ErrorAction = json.RawMessage(errorAction)
	}
	return r, nil
}

func topicRuleArgs(r *registry.TopicRule) []any {
	var actions strings.Builder
	actions.WriteByte('[')
	for i, a := range r.Actions {
		if i > 0 {
			actions.WriteByte(',')
		}
		actions.Write(a)
	}
	actions.WriteByte(']')
	return []any{r.Name, r.SQL, r.Description, actions.String(), string(r.ErrorAction), r.RuleDisabled,
		r.SQLVersion, r.TopicPattern, millis(r.CreatedAt)}
}

// TopicRule returns the named topic rule.
func (t *tx) TopicRule(ctx context.Context, name string) (*registry.TopicRule, error) {
	return queryOne(ctx, t, fmt.Sprintf("topic rule %q", name),
		`SELECT `+topicRuleColumns+` FROM topic_rules WHERE name = $1`, []any{name}, scanTopicRule)
}

// InsertTopicRule inserts a new topic rule; it fails if the name is taken.
func (t *tx) InsertTopicRule(ctx context.Context, r *registry.TopicRule) error {
	if _, err := t.exec(ctx, `INSERT INTO topic_rules (`+topicRuleColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, topicRuleArgs(r)...); err != nil {
		return fmt.Errorf("insert topic rule %q: %w", r.Name, err)
	}
	return nil
}

// UpdateTopicRule overwrites a topic rule; ErrNotFound when it does not exist.
func (t *tx) UpdateTopicRule(ctx context.Context, r *registry.TopicRule) error {
	return t.execOne(ctx, fmt.Sprintf("update topic rule %q", r.Name), `
		UPDATE topic_rules SET sql_text = $2, description = $3, actions = $4, error_action = $5,
			rule_disabled = $6, sql_version = $7, topic_pattern = $8, created_at = $9
		WHERE name = $1`, topicRuleArgs(r)...)
}

// DeleteTopicRule deletes a topic rule; ErrNotFound when it does not exist.
func (t *tx) DeleteTopicRule(ctx context.Context, name string) error {
	return t.execOne(ctx, fmt.Sprintf("delete topic rule %q", name),
		`DELETE FROM topic_rules WHERE name = $1`, name)
}

// ListTopicRules lists topic rules by name, those f selects.
func (t *tx) ListTopicRules(ctx context.Context, f registry.TopicRuleFilter, p registry.Page) ([]registry.TopicRule, error) {
	var s stmt
	if f.Topic != "" {
		s.where("topic_pattern = " + s.arg(f.Topic))
	}
	if f.RuleDisabled != nil {
		s.where("rule_disabled = " + s.arg(*f.RuleDisabled))
	}
	s.after("name", p, false)
	q := s.build(`SELECT `+topicRuleColumns+` FROM topic_rules`, `ORDER BY name`, p.Limit)
	return queryAll(ctx, t, "list topic rules", q, s.args, scanTopicRule)
}
