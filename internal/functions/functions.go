// Package functions calls the functions AWS IoT would run as Lambda
// functions — a topic rule's lambda action, a fleet-provisioning template's
// pre-provisioning hook — by their ARN.
//
// Two invokers serve them: Local runs the functions of a directory itself,
// the way AWS Lambda runs them (a warm python3 or node process per
// concurrent invocation, Lambda's event and context, its environment,
// timeout and error shapes); Webhooks POSTs the input to an HTTP endpoint
// configured per ARN. Chain puts them together, local functions first.
package functions

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoFunction is what Invoke returns for an ARN the invoker does not
// serve; Chain moves on to the next invoker on it.
var ErrNoFunction = errors.New("no function is configured for this ARN")

// Invoker calls a function by ARN with input, the JSON of its event, and
// returns the JSON of its result. Both Webhooks and Local satisfy it.
type Invoker interface {
	Invoke(ctx context.Context, arn string, input []byte) ([]byte, error)
}

// Chain returns an Invoker that tries invokers in order, moving on to the
// next only when one answers ErrNoFunction (local functions first, then
// webhooks). Nil invokers are left out. When none serves the ARN, the
// answer wraps ErrNoFunction.
func Chain(invokers ...Invoker) Invoker {
	c := make(chain, 0, len(invokers))
	for _, inv := range invokers {
		if inv != nil {
			c = append(c, inv)
		}
	}
	return c
}

type chain []Invoker

func (c chain) Invoke(ctx context.Context, arn string, input []byte) ([]byte, error) {
	for _, inv := range c {
		out, err := inv.Invoke(ctx, arn, input)
		if !errors.Is(err, ErrNoFunction) {
			return out, err
		}
	}
	return nil, fmt.Errorf("invoke %s: %w", arn, ErrNoFunction)
}

type callerKey struct{}

// WithCaller returns ctx annotated with who calls the function (such as
// "rule MyRule" or "template T hook"), so that the function's log lines say
// so. It is for logging only.
func WithCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// callerOf returns what WithCaller put in ctx, or "".
func callerOf(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}
