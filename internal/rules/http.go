package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/iotcore/iotcore/internal/iotsql"
)

// The http action's timeouts and retries (iotcore's choice, in
// docs/rules.md): each attempt may take httpAttemptTimeout; a connection
// failure, a 429 or a 5xx is retried after httpRetryWaits.
const httpAttemptTimeout = 3 * time.Second

var httpRetryWaits = []time.Duration{100 * time.Millisecond, time.Second}

// httpAction POSTs the rule's result to a URL [AWS https action]. AWS sends
// only to confirmed destinations; iotcore, on the operator's own network,
// sends to any http or https URL without confirmation.
type httpAction struct {
	url     *iotsql.Template
	raw     string
	headers []httpHeader
}

type httpHeader struct {
	key   string
	value *iotsql.Template
}

func compileHTTP(body json.RawMessage) (action, error) {
	var a struct {
		URL             string `json:"url"`
		ConfirmationURL string `json:"confirmationUrl"`
		Headers         []struct{ Key, Value string }
		Auth            json.RawMessage `json:"auth"`
		EnableBatching  *bool           `json:"enableBatching"`
		BatchConfig     json.RawMessage `json:"batchConfig"`
	}
	if err := strictDecode(body, &a); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	if a.URL == "" {
		return nil, errors.New("http: url is required")
	}
	h := &httpAction{raw: a.URL}
	var err error
	if h.url, err = iotsql.ParseTemplate(a.URL); err != nil {
		return nil, fmt.Errorf("http: url %q: %w", a.URL, err)
	}
	for _, kv := range a.Headers {
		v, err := iotsql.ParseTemplate(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("http: header %s: %w", kv.Key, err)
		}
		h.headers = append(h.headers, httpHeader{key: kv.Key, value: v})
	}
	return h, nil
}

func (h *httpAction) kind() string     { return "http" }
func (h *httpAction) resource() string { return h.raw }
func (h *httpAction) slow() bool       { return true }

func (h *httpAction) run(ctx context.Context, e *Engine, c *call) error {
	target, err := h.url.Expand(c.in)
	if err != nil {
		return fmt.Errorf("http: expanding the url %q: %w", h.raw, err)
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("http: %q is not an http or https URL", target)
	}
	header := http.Header{}
	if json.Valid(c.result) {
		header.Set("Content-Type", "application/json")
	}
	for _, kv := range h.headers {
		v, err := kv.value.Expand(c.in)
		if err != nil {
			return fmt.Errorf("http: expanding the header %s: %w", kv.key, err)
		}
		header.Set(kv.key, v)
	}
	client := e.cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	for attempt := 0; ; attempt++ {
		err := h.post(ctx, client, target, header, c.result)
		var retry retryable
		if err == nil || !errors.As(err, &retry) || attempt == len(httpRetryWaits) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(httpRetryWaits[attempt]):
		}
	}
}

// retryable marks a failure worth another attempt.
type retryable struct{ error }

func (r retryable) Unwrap() error { return r.error }

func (h *httpAction) post(ctx context.Context, client *http.Client, target string, header http.Header, payload []byte) error {
	ctx, cancel := context.WithTimeout(ctx, httpAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	req.Header = header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return retryable{fmt.Errorf("http: POST %s: %w", target, err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		return retryable{fmt.Errorf("http: POST %s: %s", target, resp.Status)}
	default:
		return fmt.Errorf("http: POST %s: %s", target, resp.Status)
	}
}
