package functions

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

var _ Invoker = (*Webhooks)(nil)

// maxAnswer bounds a function's answer, in bytes (Lambda's synchronous
// response limit is 6 MB; a hook's answer is a few hundred bytes).
const maxAnswer = 1 << 20

// Webhooks invokes functions through HTTP endpoints, one per function ARN:
// the function's input is POSTed to the endpoint as JSON, and its answer is
// the function's output.
type Webhooks struct {
	// URLs maps a function ARN to the URL that serves it.
	URLs map[string]string
	// Client makes the requests; nil means a client with no timeout of its
	// own (Invoke's context bounds each call).
	Client *http.Client
}

// ParseWebhook reads "ARN=URL", as given to --hook-url.
func ParseWebhook(s string) (arn, rawURL string, err error) {
	arn, rawURL, ok := strings.Cut(s, "=")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return "", "", fmt.Errorf("webhook %q: want FUNCTION_ARN=URL", s)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("webhook %q: the URL must be http:// or https://", s)
	}
	return arn, rawURL, nil
}

// Invoke calls the function arn with input and returns its answer. It
// fails when no webhook serves arn, when the endpoint cannot be reached or
// answers with a status other than 2xx, or when ctx ends first (a caller
// gives a hook AWS's 5 seconds).
//
// A nil *Webhooks serves no function.
func (w *Webhooks) Invoke(ctx context.Context, arn string, input []byte) ([]byte, error) {
	if w == nil {
		return nil, fmt.Errorf("invoke %s: %w", arn, ErrNoFunction)
	}
	target, ok := w.URLs[arn]
	if !ok {
		return nil, fmt.Errorf("invoke %s: %w", arn, ErrNoFunction)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(input))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", arn, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", arn, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: reading the answer after %v: %w", arn, time.Since(start).Round(time.Millisecond), err)
	}
	if len(body) > maxAnswer {
		return nil, fmt.Errorf("invoke %s: the answer is larger than %d bytes", arn, maxAnswer)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("invoke %s: %s answered %s", arn, target, resp.Status)
	}
	return body, nil
}
