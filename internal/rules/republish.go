package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/iotcore/iotcore/internal/iotsql"
)

// republish sends the rule's result to another topic [AWS republish].
type republish struct {
	topic    *iotsql.Template
	reserved bool   // the topic began with $$: the result begins with $
	raw      string // the topic as the rule writes it
	qos      byte
	roleARN  string // required by AWS, recorded, not used: iotcore has no IAM
}

func compileRepublish(body json.RawMessage) (action, error) {
	var a struct {
		Topic   string          `json:"topic"`
		QoS     *int            `json:"qos"`
		RoleArn string          `json:"roleArn"`
		Headers json.RawMessage `json:"headers"`
	}
	if err := strictDecode(body, &a); err != nil {
		return nil, fmt.Errorf("republish: %w", err)
	}
	if a.Topic == "" {
		return nil, errors.New("republish: topic is required")
	}
	r := &republish{raw: a.Topic, roleARN: a.RoleArn}
	if a.QoS != nil {
		if *a.QoS != 0 && *a.QoS != 1 {
			return nil, fmt.Errorf("republish: qos %d: only 0 and 1", *a.QoS)
		}
		r.qos = byte(*a.QoS)
	}
	// AWS: "To republish to a reserved topic, which begins with $, use $$
	// instead", so that the $ is not read as a substitution template.
	text, reserved := strings.CutPrefix(a.Topic, "$$")
	t, err := iotsql.ParseTemplate(text)
	if err != nil {
		return nil, fmt.Errorf("republish: topic %q: %w", a.Topic, err)
	}
	r.topic, r.reserved = t, reserved
	return r, nil
}

func (r *republish) kind() string     { return "republish" }
func (r *republish) resource() string { return r.raw }
func (r *republish) slow() bool       { return false }

func (r *republish) run(_ context.Context, e *Engine, c *call) error {
	topic, err := r.topic.Expand(c.in)
	if err != nil {
		return fmt.Errorf("republish: expanding the topic %q: %w", r.raw, err)
	}
	if r.reserved {
		topic = "$" + topic
	}
	switch {
	case topic == "" || strings.ContainsAny(topic, "+#") || strings.Contains(topic, "\x00"):
		return fmt.Errorf("republish: %q is not a topic name", topic)
	case strings.HasPrefix(topic, "$aws/things/") && strings.Contains(topic, "/jobs/"):
		return fmt.Errorf("republish: %q: AWS does not republish to reserved job topics", topic)
	}
	return e.republish(topic, c.result, r.qos, c.msg.hops+1)
}
