package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/functions"
)

// Invoker runs a function by its ARN, as AWS Lambda would (package
// functions: local functions, then webhooks).
type Invoker interface {
	Invoke(ctx context.Context, arn string, input []byte) ([]byte, error)
}

// lambdaTimeout bounds an invocation from the engine's side; the function's
// own timeout (Lambda's 3 s by default) normally ends it first.
const lambdaTimeout = 15 * time.Minute

// lambda calls a function with the rule's result as its event [AWS lambda
// action]. AWS invokes it asynchronously: what the function returns is
// dropped, what it raises is the action's failure.
type lambda struct{ arn string }

func compileLambda(body json.RawMessage) (action, error) {
	var a struct {
		FunctionArn string `json:"functionArn"`
	}
	if err := strictDecode(body, &a); err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	if a.FunctionArn == "" {
		return nil, errors.New("lambda: functionArn is required")
	}
	return &lambda{arn: a.FunctionArn}, nil
}

func (l *lambda) kind() string     { return "lambda" }
func (l *lambda) resource() string { return l.arn }
func (l *lambda) slow() bool       { return true }

func (l *lambda) run(ctx context.Context, e *Engine, c *call) error {
	if e.cfg.Functions == nil {
		return errors.New("no functions are configured (iotcore serve --functions-dir DIR)")
	}
	if !json.Valid(c.result) {
		return errors.New("the rule's result is not JSON: a lambda action needs JSON (encode a binary payload with encode(*, 'base64'))")
	}
	ctx, cancel := context.WithTimeout(functions.WithCaller(ctx, "rule "+c.rule.name), lambdaTimeout)
	defer cancel()
	_, err := e.cfg.Functions.Invoke(ctx, l.arn, c.result)
	return err
}
