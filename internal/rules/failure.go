package rules

import (
	"encoding/base64"
	"encoding/json"
	"sync"
	"time"

	"github.com/google/uuid"
)

// failure is one failed action, as AWS reports it to an errorAction
// [AWS rule-error-handling].
type failure struct {
	Action   string `json:"failedAction"`             // RepublishAction, LambdaAction, HttpAction, ...; "sql" for an evaluation error
	Resource string `json:"failedResource,omitempty"` // the topic, function ARN or URL
	Message  string `json:"errorMessage"`
}

// errorMessage is the payload AWS gives a rule's errorAction, and iotcore
// publishes on FailureTopic.
type errorMessage struct {
	RuleName              string    `json:"ruleName"`
	Topic                 string    `json:"topic"`
	CloudwatchTraceID     string    `json:"cloudwatchTraceId"`
	ClientID              string    `json:"clientId"`
	Base64OriginalPayload string    `json:"base64OriginalPayload"`
	Failures              []failure `json:"failures"`
	// Timestamp is iotcore's addition: when the action failed, in Unix
	// milliseconds.
	Timestamp int64 `json:"timestamp"`
}

// FailureTopic is where iotcore publishes each action failure of a rule
// (iotcore's event; AWS has none): the errorAction's payload, whether or
// not the rule has one.
func FailureTopic(rule string) string { return "$iotcore/events/rules/" + rule + "/failures" }

// Failure is an action failure, as Engine.Failures lists it.
type Failure struct {
	At       time.Time
	Rule     string
	Topic    string
	ClientID string
	Action   string
	Resource string
	Message  string
}

// recentFailuresKept is how many failures Engine.Failures remembers.
const recentFailuresKept = 256

// recentFailures is a ring of the latest failures.
type recentFailures struct {
	mu   sync.Mutex
	ring []Failure
	next int
}

func (r *recentFailures) add(f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ring) < recentFailuresKept {
		r.ring = append(r.ring, f)
		return
	}
	r.ring[r.next] = f
	r.next = (r.next + 1) % recentFailuresKept
}

// list returns the failures, newest first.
func (r *recentFailures) list() []Failure {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Failure, 0, len(r.ring))
	for i := range r.ring {
		out = append(out, r.ring[(r.next+len(r.ring)-1-i)%len(r.ring)])
	}
	return out
}

// Failures lists the latest action failures (at most 256), newest first.
func (e *Engine) Failures() []Failure { return e.recent.list() }

// fail reports a failed action of call c: in the log, the failure list,
// the failure event, and to the rule's errorAction, which runs with AWS's
// error message as its payload. A failing errorAction is reported but has
// no errorAction of its own.
func (e *Engine) fail(c *call, f failure) {
	e.failures.Add(1)
	at := e.cfg.Now()
	e.recent.add(Failure{At: at, Rule: c.rule.name, Topic: c.msg.Topic, ClientID: c.msg.ClientID,
		Action: f.Action, Resource: f.Resource, Message: f.Message})
	if ok, suppressed := e.failLog.Allow(at); ok {
		e.cfg.Logger.Warn("rules: action failed", "rule", c.rule.name, "action", f.Action, "resource", f.Resource,
			"topic", c.msg.Topic, "client", c.msg.ClientID, "error", f.Message, "suppressed_since_last_line", suppressed)
	}
	if c.errorAction {
		return
	}
	msg := errorMessage{RuleName: c.rule.name, Topic: c.msg.Topic, CloudwatchTraceID: e.newUUID(), ClientID: c.msg.ClientID,
		Base64OriginalPayload: base64.StdEncoding.EncodeToString(c.msg.Payload), Failures: []failure{f}, Timestamp: at.UnixMilli()}
	payload, err := json.Marshal(msg)
	if err != nil {
		return
	}
	if e.cfg.Publisher != nil {
		_ = e.cfg.Publisher.PublishFromRules(FailureTopic(c.rule.name), payload, 0)
	}
	ea := c.rule.errorAction
	if ea == nil {
		return
	}
	ec := &call{rule: c.rule, msg: c.msg, in: c.in, result: payload, errorAction: true}
	e.dispatch(ec, ea)
}

func (e *Engine) newUUID() string {
	if e.cfg.NewUUID != nil {
		return e.cfg.NewUUID()
	}
	return uuid.NewString()
}
