package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
)

const (
	testKeyID  = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	arnPath    = "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc"
)

// testNow is the verifier's clock in the table tests; requests are signed
// relative to it.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testSecrets(id string) (string, bool) {
	if id == testKeyID {
		return testSecret, true
	}
	return "", false
}

// newVerifier returns a verifier configured as the control plane is.
func newVerifier(now func() time.Time) *sigv4.Verifier {
	return &sigv4.Verifier{Service: "iot", ServiceAliases: []string{"execute-api"}, Secret: testSecrets, Now: now}
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signCase is one request signed by aws-sdk-go-v2's v4.Signer, optionally
// tampered with after signing, and the verdict expected from Verify.
type signCase struct {
	name    string
	method  string // default GET
	target  string // path and query as sent on the wire
	body    string
	header  http.Header // set before signing
	region  string      // default us-east-1
	service string      // default iot
	keyID   string      // default testKeyID
	secret  string      // default testSecret
	signAt  time.Duration
	payload string // payload hash given to the signer; default SHA-256 of body
	presign bool
	noSign  bool
	after   func(r *http.Request) // runs after signing

	wantCode string // "" means Verify must succeed
	wantMsg  string // substring of the error message
}

var signCases = []signCase{
	{name: "GET with encoded enum query", target: "/endpoint?endpointType=iot%3AData-ATS", region: "us-east-2"},
	{
		name: "POST with JSON body", method: "POST", target: "/things/t1", region: "ap-south-1",
		body:   `{"attributePayload":{"attributes":{"a":"b"}}}`,
		header: http.Header{"Content-Type": {"application/json"}},
	},
	{name: "encoded ARN label", method: "POST", target: arnPath},
	{
		name: "headers with runs of spaces and several values", method: "PUT",
		target: "/things/t1/principals?thingPrincipalType=EXCLUSIVE_THING", region: "eu-west-1",
		header: http.Header{
			"X-Amzn-Principal": {"  arn:aws:iot:us-east-1:123456789012:cert/abc    with   spaces  "},
			"X-Custom":         {"one   two", "three"},
		},
	},
	{name: "pagination marker, space and repeated keys", target: "/things?maxResults=5&attributeName=a&attributeValue=b%20c&marker=bmV4dA%3D%3D&z=2&z=1&z=10&s=a-b&s=a%2Fb&k%20y=1"},
	{name: "query name without value", target: "/things?flag&a="},
	{name: "reserved characters in query", target: "/things?q=%2F%2B%26%3D%7E%21%2A"},
	{name: "dot and empty segments signed as sent", target: "/things/./t1//principals/../principals"},
	{name: "UTF-8 path", target: "/things/%C3%A9t%C3%A9"},
	{name: "PUT with empty body", method: "PUT", target: "/certificates/" + strings.Repeat("ab", 32) + "?newStatus=ACTIVE"},
	{name: "DELETE", method: "DELETE", target: "/things/t1?expectedVersion=3"},
	{name: "signed 4 minutes ago", target: "/things", signAt: -4 * time.Minute},
	{name: "signed 4 minutes ahead", target: "/things", signAt: 4 * time.Minute},
	{
		name: "unsigned header added after signing", target: "/things",
		after: func(r *http.Request) { r.Header.Set("X-Extra", "x") },
	},
	{
		name: "x-amz-content-sha256 with the body hash", method: "POST", target: "/things/t1", body: `{}`,
		header: http.Header{"X-Amz-Content-Sha256": {hashHex([]byte(`{}`))}},
	},
	{
		name: "x-amz-content-sha256 with the body hash in upper case", method: "POST", target: "/things/t1", body: `{}`,
		header:  http.Header{"X-Amz-Content-Sha256": {strings.ToUpper(hashHex([]byte(`{}`)))}},
		payload: strings.ToUpper(hashHex([]byte(`{}`))),
	},
	{name: "region with several words", target: "/things", region: "us-gov-west-1"},
	{name: "region with a four-letter prefix", target: "/things", region: "eusc-de-east-1"},
	{name: "signed as execute-api, as older IoT models do", target: "/things", service: "execute-api"},
	{name: "presigned", target: "/endpoint?endpointType=iot%3AData-ATS", presign: true, region: "ap-south-1"},
	{
		name: "presigned with X-Amz-Expires", target: "/endpoint?X-Amz-Expires=300", presign: true,
		signAt: -4 * time.Minute,
	},

	// Failures.
	{name: "unsigned", target: "/things", noSign: true, wantCode: sigv4.MissingAuthenticationToken, wantMsg: "Missing Authentication Token"},
	{
		name: "wrong secret", target: "/things", secret: "not-the-secret",
		wantCode: sigv4.InvalidSignature, wantMsg: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
	},
	{
		name: "tampered body", method: "POST", target: "/things/t1", body: `{"a":1}`,
		after:    func(r *http.Request) { setBody(r, `{"a":2}`) },
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "tampered query", target: "/things?maxResults=5",
		after:    func(r *http.Request) { r.URL.RawQuery = "maxResults=6" },
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "query parameter added", target: "/things?maxResults=5",
		after:    func(r *http.Request) { r.URL.RawQuery += "&nextToken=x" },
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "tampered path", target: arnPath,
		after: func(r *http.Request) {
			r.URL.RawPath = strings.Replace(r.URL.RawPath, "abc", "abd", 1)
			r.URL.Path, _ = url.PathUnescape(r.URL.RawPath)
		},
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "tampered signed header", method: "POST", target: "/things/t1", body: `{}`,
		header:   http.Header{"Content-Type": {"application/json"}},
		after:    func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") },
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "tampered host", target: "/things",
		after:    func(r *http.Request) { r.Host = "evil.example:443" },
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "tampered method", method: "GET", target: "/things/t1",
		after:    func(r *http.Request) { r.Method = "DELETE" },
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "unknown access key", target: "/things", keyID: "AKIDUNKNOWN",
		wantCode: sigv4.UnrecognizedClient, wantMsg: "The security token included in the request is invalid.",
	},
	{
		name: "expired", target: "/things", signAt: -6 * time.Minute,
		wantCode: sigv4.InvalidSignature,
		wantMsg:  "Signature expired: 20260304T050007Z is now earlier than 20260304T050107Z (20260304T050607Z - 5 min.)",
	},
	{
		name: "not yet current", target: "/things", signAt: 6 * time.Minute,
		wantCode: sigv4.InvalidSignature,
		wantMsg:  "Signature not yet current: 20260304T051207Z is still later than 20260304T051107Z (20260304T050607Z + 5 min.)",
	},
	{
		name: "wrong service", target: "/things", service: "iotdata",
		wantCode: sigv4.InvalidSignature, wantMsg: "Credential should be scoped to correct service: 'iot'.",
	},
	{
		name: "garbage Authorization", target: "/things",
		after:    func(r *http.Request) { r.Header.Set("Authorization", "garbage") },
		wantCode: sigv4.IncompleteSignature, wantMsg: "AWS4-HMAC-SHA256",
	},
	{
		name: "Authorization without Signature and SignedHeaders", target: "/things",
		after: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKeyID+"/20260304/us-east-1/iot/aws4_request")
		},
		wantCode: sigv4.IncompleteSignature,
		wantMsg:  "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
	},
	{
		name: "missing X-Amz-Date", target: "/things",
		after:    func(r *http.Request) { r.Header.Del("X-Amz-Date") },
		wantCode: sigv4.IncompleteSignature, wantMsg: "X-Amz-Date",
	},
	{
		name: "X-Amz-Date not in basic format", target: "/things",
		after:    func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-03-04T05:06:07Z") },
		wantCode: sigv4.IncompleteSignature, wantMsg: "ISO-8601",
	},
	{
		name: "X-Amz-Date on another day than the scope", target: "/things",
		after:    func(r *http.Request) { r.Header.Set("X-Amz-Date", "20260305T050607Z") },
		wantCode: sigv4.InvalidSignature, wantMsg: "'20260304' != '20260305'",
	},
	{
		name: "host not signed", target: "/things",
		after: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(a, "SignedHeaders=host;", "SignedHeaders=", 1))
		},
		wantCode: sigv4.IncompleteSignature, wantMsg: "'Host' or ':authority' must be a 'SignedHeader'",
	},
	{
		name: "x-amz-content-sha256 does not match the body", method: "POST", target: "/things/t1", body: `{"a":1}`,
		payload:  hashHex([]byte(`{"a":2}`)),
		header:   http.Header{"X-Amz-Content-Sha256": {hashHex([]byte(`{"a":2}`))}},
		wantCode: sigv4.InvalidSignature, wantMsg: "x-amz-content-sha256",
	},
	{
		// Issue 11 item 12: the body was swapped after signing, and accepted.
		name: "UNSIGNED-PAYLOAD sent, body swapped after signing", method: "POST", target: "/things/t1", body: `{"a":1}`,
		payload:  sigv4.UnsignedPayload,
		header:   http.Header{"X-Amz-Content-Sha256": {sigv4.UnsignedPayload}},
		after:    func(r *http.Request) { setBody(r, `{"a":2}`) },
		wantCode: sigv4.InvalidSignature, wantMsg: "UNSIGNED-PAYLOAD is not accepted",
	},
	{
		name: "UNSIGNED-PAYLOAD sent with the body signed", method: "POST", target: "/things/t1", body: `{"a":1}`,
		payload:  sigv4.UnsignedPayload,
		header:   http.Header{"X-Amz-Content-Sha256": {sigv4.UnsignedPayload}},
		wantCode: sigv4.InvalidSignature, wantMsg: "UNSIGNED-PAYLOAD is not accepted",
	},
	{
		name: "x-amz-content-sha256 not a hash", method: "POST", target: "/things/t1", body: `{}`,
		header:   http.Header{"X-Amz-Content-Sha256": {"STREAMING-UNSIGNED-PAYLOAD-TRAILER"}},
		payload:  "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		wantCode: sigv4.InvalidSignature, wantMsg: "hex SHA-256",
	},
	{name: "region in upper case", target: "/things", region: "US-EAST-1", wantCode: sigv4.IncompleteSignature, wantMsg: "valid region"},
	{name: "region with a space", target: "/things", region: "US EAST", wantCode: sigv4.IncompleteSignature, wantMsg: "valid region"},
	{name: "region with a dot", target: "/things", region: "us-east-1.evil", wantCode: sigv4.IncompleteSignature, wantMsg: "valid region"},
	{name: "region starting with a dash", target: "/things", region: "-x", wantCode: sigv4.IncompleteSignature, wantMsg: "valid region"},
	{name: "region ending with a dash", target: "/things", region: "us-", wantCode: sigv4.IncompleteSignature, wantMsg: "valid region"},
	{name: "region with two dashes", target: "/things", region: "us--east-1", wantCode: sigv4.IncompleteSignature, wantMsg: "valid region"},
	{name: "region of 64 bytes", target: "/things", region: strings.Repeat("a", 64), wantCode: sigv4.IncompleteSignature, wantMsg: "valid region"},
	{
		name: "empty region", target: "/things",
		after:    func(r *http.Request) { setScopeRegion(r, "") },
		wantCode: sigv4.IncompleteSignature, wantMsg: "valid region",
	},
	{
		name: "dot-dot region", target: "/things",
		after:    func(r *http.Request) { setScopeRegion(r, "..") },
		wantCode: sigv4.IncompleteSignature, wantMsg: "valid region",
	},
	{
		name: "UNSIGNED-PAYLOAD signed but not sent", method: "POST", target: "/things/t1", body: `{}`,
		payload:  sigv4.UnsignedPayload,
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "presigned URL expired", target: "/endpoint?X-Amz-Expires=60", presign: true, signAt: -2 * time.Minute,
		wantCode: sigv4.InvalidSignature, wantMsg: "Signature expired",
	},
	{
		name: "presigned URL tampered", target: "/endpoint?endpointType=iot%3AData-ATS", presign: true,
		after: func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "Data-ATS", "Data", 1)
		},
		wantCode: sigv4.InvalidSignature, wantMsg: "does not match",
	},
	{
		name: "presigned URL without signature", target: "/endpoint", presign: true,
		after: func(r *http.Request) {
			q := r.URL.Query()
			q.Del("X-Amz-Signature")
			r.URL.RawQuery = q.Encode()
		},
		wantCode: sigv4.IncompleteSignature, wantMsg: "must include 'X-Amz-Signature'",
	},
	{
		name: "presigned URL and Authorization header", target: "/endpoint", presign: true,
		after:    func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x") },
		wantCode: sigv4.IncompleteSignature, wantMsg: "Only one auth mechanism allowed",
	},
}

// setScopeRegion replaces the region in the credential scope of r's
// Authorization header.
func setScopeRegion(r *http.Request, region string) {
	a := r.Header.Get("Authorization")
	i := strings.Index(a, "/us-east-1/")
	r.Header.Set("Authorization", a[:i]+"/"+region+"/"+a[i+len("/us-east-1/"):])
}

func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = nil
}

// build returns c's request to baseURL, signed at testNow+c.signAt.
func (c signCase) build(tb testing.TB, baseURL string) *http.Request {
	tb.Helper()
	method := or(c.method, "GET")
	r, err := http.NewRequest(method, baseURL+c.target, bytes.NewReader([]byte(c.body)))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	if c.body == "" {
		r.Body, r.GetBody, r.ContentLength = http.NoBody, nil, 0
	}
	for k, vs := range c.header {
		r.Header[k] = append([]string(nil), vs...)
	}
	if !c.noSign {
		creds := aws.Credentials{AccessKeyID: or(c.keyID, testKeyID), SecretAccessKey: or(c.secret, testSecret)}
		payload := or(c.payload, hashHex([]byte(c.body)))
		service, region, at := or(c.service, "iot"), or(c.region, "us-east-1"), testNow.Add(c.signAt)
		signer := v4.NewSigner()
		if c.presign {
			uri, hdr, err := signer.PresignHTTP(context.Background(), creds, r, payload, service, region, at)
			if err != nil {
				tb.Fatalf("presign: %v", err)
			}
			r, err = http.NewRequest(method, uri, http.NoBody)
			if err != nil {
				tb.Fatalf("new presigned request: %v", err)
			}
			hdr.Del("Host")
			r.Header = hdr
		} else if err := signer.SignHTTP(context.Background(), creds, r, payload, service, region, at); err != nil {
			tb.Fatalf("sign: %v", err)
		}
	}
	if c.after != nil {
		c.after(r)
	}
	return r
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// verdict is what verifyServer answers: the Identity, or the error.
type verdict struct {
	Status     int
	Identity   sigv4.Identity `json:"identity"`
	RequestURI string         `json:"requestURI"`
	Code       string
	Message    string `json:"message"`
}

// verifyServer is an httptest server that verifies each request and answers
// like the AWS API: 200 with a JSON object, or 403 with x-amzn-ErrorType.
type verifyServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []verdict
}

func newVerifyServer(t *testing.T, v *sigv4.Verifier) *verifyServer {
	t.Helper()
	s := &verifyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got := verdict{Status: http.StatusOK, RequestURI: r.RequestURI}
		got.Identity, err = v.Verify(r, body)
		if err != nil {
			var e *sigv4.Error
			if !errors.As(err, &e) {
				t.Errorf("Verify returned %T %v, want *sigv4.Error", err, err)
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			got.Status, got.Code, got.Message = http.StatusForbidden, e.Code, e.Message
			w.Header().Set("X-Amzn-ErrorType", e.Code)
		}
		s.mu.Lock()
		s.seen = append(s.seen, got)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(got.Status)
		json.NewEncoder(w).Encode(got)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *verifyServer) requests() []verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]verdict(nil), s.seen...)
}

// do sends r and decodes the verdict.
func (s *verifyServer) do(t *testing.T, r *http.Request) verdict {
	t.Helper()
	resp, err := s.Client().Do(r)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	var got verdict
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	if got.Code != resp.Header.Get("X-Amzn-ErrorType") || got.Status != resp.StatusCode {
		t.Fatalf("response header and body disagree: %+v vs %d %q", got, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	return got
}

// TestVerifySDKSigner sends requests signed by aws-sdk-go-v2 over loopback.
func TestVerifySDKSigner(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(func() time.Time { return testNow }))
	for _, c := range signCases {
		t.Run(c.name, func(t *testing.T) {
			got := srv.do(t, c.build(t, srv.URL))
			if got.Code != c.wantCode {
				t.Fatalf("code = %q (%s), want %q", got.Code, got.Message, or(c.wantCode, "success"))
			}
			if c.wantCode != "" {
				if got.Status != http.StatusForbidden {
					t.Errorf("status = %d, want 403", got.Status)
				}
				if !strings.Contains(got.Message, c.wantMsg) {
					t.Errorf("message = %q, want it to contain %q", got.Message, c.wantMsg)
				}
				return
			}
			want := sigv4.Identity{
				AccessKeyID: testKeyID,
				Region:      or(c.region, "us-east-1"),
				Service:     or(c.service, "iot"),
				SignedAt:    testNow.Add(c.signAt),
			}
			if !got.Identity.SignedAt.Equal(want.SignedAt) {
				t.Errorf("SignedAt = %v, want %v", got.Identity.SignedAt, want.SignedAt)
			}
			got.Identity.SignedAt = want.SignedAt
			if got.Identity != want {
				t.Errorf("identity = %+v, want %+v", got.Identity, want)
			}
		})
	}
	// The encoded ARN label must have reached the server still encoded, or
	// the case proved nothing about double encoding.
	for _, v := range srv.requests() {
		if strings.HasPrefix(v.RequestURI, "/attached-policies/") && !strings.Contains(v.RequestURI, "%3A") {
			t.Errorf("request URI %q lost its percent-encoding on the way", v.RequestURI)
		}
	}
}

// TestVerifyErrorCause checks that a mismatch keeps the canonical request for
// the log, outside the client-visible message.
func TestVerifyErrorCause(t *testing.T) {
	c := signCase{target: arnPath, secret: "wrong"}
	r := c.build(t, "http://iot.test")
	r.RequestURI = r.URL.RequestURI()
	_, err := newVerifier(func() time.Time { return testNow }).Verify(r, nil)
	var e *sigv4.Error
	if !errors.As(err, &e) || e.Code != sigv4.InvalidSignature {
		t.Fatalf("Verify = %v, want InvalidSignatureException", err)
	}
	if e.Err == nil || !strings.Contains(e.Err.Error(), "arn%253Aaws%253Aiot") {
		t.Errorf("cause = %v, want the double-encoded canonical URI in it", e.Err)
	}
	if strings.Contains(e.Message, "%253A") {
		t.Errorf("message %q leaks the canonical request", e.Message)
	}
}

// TestVerifyZeroValues checks the documented zero values: nil Secret knows no
// keys, nil Now is time.Now, and MaxSkew 0 is five minutes.
func TestVerifyZeroValues(t *testing.T) {
	tests := []struct {
		name     string
		v        sigv4.Verifier
		signAt   time.Time
		wantCode string
	}{
		{"nil Secret", sigv4.Verifier{Service: "iot"}, time.Now(), sigv4.UnrecognizedClient},
		{"nil Now", sigv4.Verifier{Service: "iot", Secret: testSecrets}, time.Now(), ""},
		{"nil Now, old signature", sigv4.Verifier{Service: "iot", Secret: testSecrets}, time.Now().Add(-6 * time.Minute), sigv4.InvalidSignature},
		{"MaxSkew 10m", sigv4.Verifier{Service: "iot", Secret: testSecrets, MaxSkew: 10 * time.Minute}, time.Now().Add(-6 * time.Minute), ""},
		{"empty Service", sigv4.Verifier{Secret: testSecrets}, time.Now(), sigv4.InvalidSignature},
		{"nil ServiceAliases", sigv4.Verifier{Service: "iot", Secret: testSecrets}, time.Now(), sigv4.InvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := signCase{target: "/things", signAt: tt.signAt.Sub(testNow)}
			if tt.name == "nil ServiceAliases" {
				c.service = "execute-api"
			}
			r := c.build(t, "http://iot.test")
			r.RequestURI = r.URL.RequestURI()
			_, err := tt.v.Verify(r, nil)
			var e *sigv4.Error
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("Verify = %v, want success", err)
			case tt.wantCode != "" && (!errors.As(err, &e) || e.Code != tt.wantCode):
				t.Fatalf("Verify = %v, want %s", err, tt.wantCode)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	c := signCase{
		method: "POST", target: "/things/t1?setAsActive=true", region: "us-east-2",
		body:   `{"attributePayload":{"attributes":{"a":"b"}}}`,
		header: http.Header{"Content-Type": {"application/json"}},
	}
	r := c.build(b, "http://127.0.0.1:8443")
	r.RequestURI = r.URL.RequestURI()
	body := []byte(c.body)
	v := newVerifier(func() time.Time { return testNow })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// unreadable is a body that fails the test if anything reads it.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("Precheck read the request body")
	return 0, io.ErrUnexpectedEOF
}

// TestPrecheck checks that Precheck refuses, without reading the body, what
// Verify would refuse for the headers alone, and passes what only the body
// or the signature can decide.
func TestPrecheck(t *testing.T) {
	tests := []struct {
		name     string
		c        signCase
		wantCode string
	}{
		{"valid", signCase{method: "POST", target: "/things/t1", body: `{"a":1}`}, ""},
		{"body swapped: only Verify can tell", signCase{method: "POST", target: "/things/t1", body: `{"a":1}`,
			after: func(r *http.Request) { setBody(r, `{"a":2}`) }}, ""},
		{"wrong secret: only Verify can tell", signCase{target: "/things", secret: "wrong"}, ""},
		{"unsigned", signCase{method: "POST", target: "/things/t1", body: `{}`, noSign: true}, sigv4.MissingAuthenticationToken},
		{"malformed", signCase{method: "POST", target: "/things/t1", body: `{}`,
			after: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage") }}, sigv4.IncompleteSignature},
		{"unknown key", signCase{method: "POST", target: "/things/t1", body: `{}`, keyID: "AKIDUNKNOWN"}, sigv4.UnrecognizedClient},
		{"wrong service", signCase{method: "POST", target: "/topics/x", body: `hi`, service: "iotdata"}, sigv4.InvalidSignature},
		{"region not region-shaped", signCase{target: "/things", region: "US EAST"}, sigv4.IncompleteSignature},
		{"expired", signCase{target: "/things", signAt: -10 * time.Minute}, sigv4.InvalidSignature},
	}
	v := newVerifier(func() time.Time { return testNow })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.build(t, "http://iot.test")
			r.RequestURI = r.URL.RequestURI()
			r.Body = io.NopCloser(unreadable{t})
			err := v.Precheck(r)
			var e *sigv4.Error
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("Precheck = %v, want success", err)
			case tt.wantCode != "" && (!errors.As(err, &e) || e.Code != tt.wantCode):
				t.Fatalf("Precheck = %v, want %s", err, tt.wantCode)
			}
		})
	}
}

// TestVerifyServiceError checks that a request signed for another service
// names that service in the cause, so the API can say what it serves.
func TestVerifyServiceError(t *testing.T) {
	c := signCase{method: "POST", target: "/topics/x?qos=0", body: "hi", service: "iotdata"}
	r := c.build(t, "http://iot.test")
	r.RequestURI = r.URL.RequestURI()
	_, err := newVerifier(func() time.Time { return testNow }).Verify(r, []byte(c.body))
	var se *sigv4.ServiceError
	if !errors.As(err, &se) || se.Service != "iotdata" {
		t.Fatalf("Verify = %v, want a *ServiceError for iotdata", err)
	}
}
