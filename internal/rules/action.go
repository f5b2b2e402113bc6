package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// action is one compiled action of a rule.
type action interface {
	// kind is the action's member name in AWS's Action union (republish,
	// lambda, http, ...), for logs and metrics.
	kind() string
	// resource is what the action acts on (a topic, a function ARN, a URL),
	// as AWS names it in an errorAction's failures.
	resource() string
	// slow reports whether the action waits on I/O, so that it runs beside
	// the engine's workers rather than on them.
	slow() bool
	// run performs the action with the rule's result, payload, for the
	// message in (substitution templates are expanded against it).
	run(ctx context.Context, e *Engine, c *call) error
}

// failedActionName is AWS's name of an action in an errorAction's failures:
// RepublishAction, LambdaAction, HttpAction, ... [AWS rule-error-handling].
func failedActionName(kind string) string {
	switch kind {
	case "http":
		return "HttpAction"
	case "dynamoDB":
		return "DynamoAction"
	}
	return strings.ToUpper(kind[:1]) + kind[1:] + "Action"
}

// compileAction reads one member of AWS's Action union.
func compileAction(raw json.RawMessage) (action, error) {
	var union map[string]json.RawMessage
	if err := json.Unmarshal(raw, &union); err != nil {
		return nil, fmt.Errorf("an action must be a JSON object: %w", err)
	}
	if len(union) != 1 {
		kinds := make([]string, 0, len(union))
		for k := range union {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		return nil, fmt.Errorf("an action must have exactly one member, not %d (%s)", len(union), strings.Join(kinds, ", "))
	}
	for kind, body := range union {
		switch kind {
		case "republish":
			return compileRepublish(body)
		case "lambda":
			return compileLambda(body)
		case "http":
			return compileHTTP(body)
		default:
			return unsupported{name: kind}, nil
		}
	}
	panic("unreachable")
}

// strictDecode decodes an action's body, refusing members it does not know
// of, so that a misspelt member is an error rather than ignored.
func strictDecode(body json.RawMessage, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// unsupported is an action iotcore does not run (s3, dynamoDB, kinesis, ...):
// the rule is kept, and each time it matches the action fails, so the
// errorAction, the log and the metrics say so.
type unsupported struct{ name string }

func (u unsupported) kind() string     { return u.name }
func (u unsupported) resource() string { return "" }
func (u unsupported) slow() bool       { return false }
func (u unsupported) run(context.Context, *Engine, *call) error {
	return fmt.Errorf("iotcore does not run the %s action (docs/rules.md lists the actions it runs)", u.name)
}
