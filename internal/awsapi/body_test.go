package awsapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/awsapi"
)

// answerWithin bounds every wait for an answer in these tests: the server
// must answer without the rest of the body, which never comes.
const answerWithin = 10 * time.Second

// startRequest sends r's request line and headers, announcing contentLength
// bytes of body, and the first part of the body; the rest is never sent. The
// connection stays open until the test ends.
func startRequest(t *testing.T, addr string, r *http.Request, contentLength int, part string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, answerWithin)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", r.Method, r.URL.RequestURI(), r.Host, contentLength)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n" + part)
	if err := conn.SetDeadline(time.Now().Add(answerWithin)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatalf("send: %v", err)
	}
	return conn
}

func readConnAnswer(t *testing.T, conn net.Conn) answer {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is still being sent: %v", err)
	}
	return readAnswer(t, resp)
}

// TestRefusedBeforeBody checks that a request from no one iotcore knows is
// answered without reading its body (issue 11 item 10: 300 unauthenticated
// slow clients held 340 MiB for the read timeout). Each request announces
// 1 MiB, sends 1 KiB and waits for its answer.
func TestRefusedBeforeBody(t *testing.T) {
	const announced = 1 << 20
	body := strings.Repeat("x", announced)
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantCode   string
	}{
		{"no Authorization", func(t *testing.T) *http.Request {
			return httptest.NewRequest("POST", "/things/t1", nil)
		}, 403, "MissingAuthenticationTokenException"},
		{"malformed Authorization", func(t *testing.T) *http.Request {
			r := httptest.NewRequest("POST", "/things/t1", nil)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			return r
		}, 403, "IncompleteSignatureException"},
		{"unknown access key", func(t *testing.T) *http.Request {
			return signed{method: "POST", target: "/things/t1", body: body, keyID: "AKIDUNKNOWN"}.request(t)
		}, 403, "UnrecognizedClientException"},
		{"region not region-shaped", func(t *testing.T) *http.Request {
			return signed{method: "POST", target: "/things/t1", body: body, region: "US EAST"}.request(t)
		}, 403, "IncompleteSignatureException"},
		{"service iotcore does not implement", func(t *testing.T) *http.Request {
			return signed{method: "POST", target: "/topics/x", body: body, service: "iotdata"}.request(t)
		}, 404, "UnknownOperationException"},
		{"known key, body larger than allowed", func(t *testing.T) *http.Request {
			return signed{method: "POST", target: "/things/t1", body: body + "x"}.request(t)
		}, 400, "InvalidRequestException"},
	}
	api, store := newAPI(t, nil)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req(t)
			length := announced
			if tt.wantStatus == 400 {
				length++
			}
			conn := startRequest(t, srv.Listener.Addr().String(), r, length, body[:1024])
			got := readConnAnswer(t, conn)
			if got.Status != tt.wantStatus || got.Code != tt.wantCode {
				t.Fatalf("answer = %d %s (%s), want %d %s", got.Status, got.Code, got.Message, tt.wantStatus, tt.wantCode)
			}
			if !got.Close {
				t.Error("the connection stays open: the rest of the body would be read as the next request")
			}
		})
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("the registry was asked %d times", n)
	}
}

// notifyingBody tells, on its first Read, that the server began to read a
// body: it holds its bytes in the budget by then.
type notifyingBody struct {
	io.ReadCloser
	reading chan<- struct{}
}

func (b *notifyingBody) Read(p []byte) (int, error) {
	if b.reading != nil {
		b.reading <- struct{}{}
		b.reading = nil
	}
	return b.ReadCloser.Read(p)
}

// TestBodyBudget checks that the bodies held at once are bounded: a body
// that does not fit is refused at once, unread, with 503
// ServiceUnavailableException, and fits again once the others are done.
func TestBodyBudget(t *testing.T) {
	api, _ := newAPI(t, func(s *awsapi.Server) { s.MaxBodyBytes, s.MaxBodyBytesInFlight = 1000, 1000 })
	reading := make(chan struct{}, 3) // one per request that reads a body, at most
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &notifyingBody{ReadCloser: r.Body, reading: reading}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	body := strings.Repeat("x", 800)
	// Signed with the wrong secret: the key is known, so the body is read,
	// and the answer, once it is, is 403 InvalidSignatureException.
	wrong := signed{method: "POST", target: "/things/t1", body: body, secret: "wrong"}

	slow := startRequest(t, addr, wrong.request(t), len(body), body[:100])
	select {
	case <-reading:
	case <-time.After(answerWithin):
		t.Fatal("the server did not begin to read the first body")
	}

	second := startRequest(t, addr, wrong.request(t), len(body), body)
	if got := readConnAnswer(t, second); got.Status != http.StatusServiceUnavailable || got.Code != "ServiceUnavailableException" {
		t.Fatalf("second body while the first holds the budget: %d %s (%s), want 503 ServiceUnavailableException",
			got.Status, got.Code, got.Message)
	}

	if _, err := io.WriteString(slow, body[100:]); err != nil {
		t.Fatalf("finish the first body: %v", err)
	}
	if got := readConnAnswer(t, slow); got.Code != "InvalidSignatureException" {
		t.Fatalf("first request: %d %s (%s), want 403 InvalidSignatureException", got.Status, got.Code, got.Message)
	}
	third := startRequest(t, addr, wrong.request(t), len(body), body)
	if got := readConnAnswer(t, third); got.Code != "InvalidSignatureException" {
		t.Fatalf("a body after the first was done: %d %s (%s), want 403 InvalidSignatureException", got.Status, got.Code, got.Message)
	}
}
