package functions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestInvoke(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			_, _ = w.Write(body)
		case "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/slow":
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	w := &Webhooks{URLs: map[string]string{
		"arn:aws:lambda:us-east-1:123456789012:function:echo": srv.URL + "/echo",
		"arn:aws:lambda:us-east-1:123456789012:function:fail": srv.URL + "/fail",
		"arn:aws:lambda:us-east-1:123456789012:function:slow": srv.URL + "/slow",
	}}
	ctx := context.Background()

	got, err := w.Invoke(ctx, "arn:aws:lambda:us-east-1:123456789012:function:echo", []byte(`{"a":1}`))
	if err != nil || string(got) != `{"a":1}` {
		t.Errorf("echo: %q, %v", got, err)
	}
	if _, err := w.Invoke(ctx, "arn:aws:lambda:us-east-1:123456789012:function:fail", nil); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("fail: %v, want the status named", err)
	}
	if _, err := w.Invoke(ctx, "arn:aws:lambda:us-east-1:123456789012:function:none", nil); !errors.Is(err, ErrNoFunction) {
		t.Errorf("unknown ARN: %v, want ErrNoFunction", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := w.Invoke(short, "arn:aws:lambda:us-east-1:123456789012:function:slow", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow: %v, want the deadline", err)
	}
}

func TestParseWebhook(t *testing.T) {
	for _, tc := range []struct {
		in      string
		arn     string
		wantErr bool
	}{
		{"arn:aws:lambda:us-east-1:123456789012:function:hook=http://127.0.0.1:8080/hook", "arn:aws:lambda:us-east-1:123456789012:function:hook", false},
		{"arn:aws:lambda:us-east-1:123456789012:function:hook=https://hooks.example.com/x?y=z", "arn:aws:lambda:us-east-1:123456789012:function:hook", false},
		{"hook=http://127.0.0.1/", "", true},
		{"arn:aws:lambda:us-east-1:1:function:hook", "", true},
		{"arn:aws:lambda:us-east-1:1:function:hook=ftp://x/", "", true},
		{"arn:aws:lambda:us-east-1:1:function:hook=http://", "", true},
	} {
		arn, _, err := ParseWebhook(tc.in)
		if (err != nil) != tc.wantErr || arn != tc.arn {
			t.Errorf("ParseWebhook(%q) = %q, %v; want %q, error %v", tc.in, arn, err, tc.arn, tc.wantErr)
		}
	}
}
