package sigv4_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
)

// emptySHA256 is the payload hash of a WebSocket upgrade, which has no body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// presignCase is one WebSocket upgrade URL presigned by aws-sdk-go-v2, as
// AWS's device SDKs presign wss://<endpoint>/mqtt.
type presignCase struct {
	name    string
	service string // default iotdevicegateway
	secret  string // default testSecret
	token   string // session token given to the signer (signed with the query)
	payload string // default the SHA-256 of nothing
	header  http.Header
	signAt  time.Duration
	expires string // X-Amz-Expires, set before signing
	after   func(r *http.Request)

	wantCode string
}

var presignCases = []presignCase{
	{name: "host signed, empty payload hash"},
	{name: "UNSIGNED-PAYLOAD", payload: sigv4.UnsignedPayload},
	{name: "connection;host as aws-crt signs", header: http.Header{"Connection": {"Upgrade"}}},
	{name: "region and expiry", expires: "3600", signAt: -30 * time.Minute},
	{name: "security token signed with the query", token: "FQoGZXIvYXdzEXAMPLE"},
	{name: "security token appended after signing", after: func(r *http.Request) {
		r.URL.RawQuery += "&X-Amz-Security-Token=" + url.QueryEscape("FQoGZXIvYXdz/EXAMPLE+=")
		r.RequestURI = r.URL.RequestURI()
	}},
	{name: "wrong secret", secret: "not-the-secret", wantCode: sigv4.InvalidSignature},
	{name: "expired date", signAt: -10 * time.Minute, wantCode: sigv4.InvalidSignature},
	{name: "expired X-Amz-Expires", expires: "60", signAt: -2 * time.Minute, wantCode: sigv4.InvalidSignature},
	{name: "date in the future", signAt: 10 * time.Minute, wantCode: sigv4.InvalidSignature},
	{name: "wrong service", service: "iot", wantCode: sigv4.InvalidSignature},
	{name: "tampered query", after: func(r *http.Request) {
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Date=", "extra=1&X-Amz-Date=", 1)
		r.RequestURI = r.URL.RequestURI()
	}, wantCode: sigv4.InvalidSignature},
	{name: "tampered path", after: func(r *http.Request) {
		r.URL.Path = "/other"
		r.RequestURI = r.URL.RequestURI()
	}, wantCode: sigv4.InvalidSignature},
	{name: "other host", after: func(r *http.Request) { r.Host = "evil.example" }, wantCode: sigv4.InvalidSignature},
	{name: "Connection changed after signing", header: http.Header{"Connection": {"Upgrade"}},
		after: func(r *http.Request) { r.Header.Set("Connection", "close") }, wantCode: sigv4.InvalidSignature},
	{name: "no signature", after: func(r *http.Request) {
		r.URL.RawQuery, r.RequestURI = "", "/mqtt"
	}, wantCode: sigv4.MissingAuthenticationToken},
	{name: "Authorization header", after: func(r *http.Request) {
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
	}, wantCode: sigv4.IncompleteSignature},
}

// presign returns the upgrade request the server receives for c.
func (c presignCase) presign(t testing.TB) *http.Request {
	t.Helper()
	service := c.service
	if service == "" {
		service = "iotdevicegateway"
	}
	secret := c.secret
	if secret == "" {
		secret = testSecret
	}
	payload := c.payload
	if payload == "" {
		payload = emptySHA256
	}
	target := "https://iot.example.com/mqtt"
	if c.expires != "" {
		target += "?X-Amz-Expires=" + c.expires
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret, SessionToken: c.token}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payload, service, "us-east-1", testNow.Add(c.signAt))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, u.RequestURI(), nil)
	r.Host = u.Host
	for k, vs := range c.header {
		r.Header[k] = vs
	}
	if c.after != nil {
		c.after(r)
	}
	return r
}

func TestVerifyPresigned(t *testing.T) {
	v := &sigv4.Verifier{Service: "iotdevicegateway", Secret: testSecrets, Now: func() time.Time { return testNow }}
	for _, c := range presignCases {
		t.Run(c.name, func(t *testing.T) {
			r := c.presign(t)
			id, err := v.VerifyPresigned(r)
			if c.wantCode == "" {
				if err != nil {
					t.Fatalf("VerifyPresigned(%s) = %v; want success", r.RequestURI, err)
				}
				if id.AccessKeyID != testKeyID || id.Service != "iotdevicegateway" || id.Region != "us-east-1" {
					t.Errorf("identity %+v", id)
				}
				return
			}
			e, ok := err.(*sigv4.Error)
			if !ok {
				t.Fatalf("VerifyPresigned = %v (%T); want code %s", err, err, c.wantCode)
			}
			if e.Code != c.wantCode {
				t.Errorf("code %s (%s); want %s", e.Code, e.Message, c.wantCode)
			}
		})
	}
}

// TestVerifyPresignedSignedHeaders checks that the headers a client lists in
// X-Amz-SignedHeaders are the ones verified: aws-crt lists connection;host.
func TestVerifyPresignedSignedHeaders(t *testing.T) {
	r := presignCase{header: http.Header{"Connection": {"Upgrade"}}}.presign(t)
	if got := r.URL.Query().Get("X-Amz-SignedHeaders"); got != "connection;host" {
		t.Errorf("aws-sdk-go-v2 signed %q; the connection;host cases need connection;host", got)
	}
}

// FuzzVerifyPresigned feeds VerifyPresigned arbitrary request URIs, hosts
// and Connection headers, seeded with the presigned URLs of the table. It
// must never panic, and must fail only with the documented codes.
func FuzzVerifyPresigned(f *testing.F) {
	for _, c := range presignCases {
		r := c.presign(f)
		f.Add(r.RequestURI, r.Host, r.Header.Get("Connection"), r.Header.Get("Authorization"))
	}
	f.Add("/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Security-Token=%&X-Amz-SignedHeaders=;", "h", "", "")
	v := &sigv4.Verifier{Service: "iotdevicegateway", Secret: testSecrets, Now: func() time.Time { return testNow }}
	codes := map[string]bool{
		sigv4.MissingAuthenticationToken: true, sigv4.IncompleteSignature: true,
		sigv4.UnrecognizedClient: true, sigv4.InvalidSignature: true,
	}
	f.Fuzz(func(t *testing.T, requestURI, host, connection, authorization string) {
		u, err := url.ParseRequestURI(requestURI)
		if err != nil {
			u = &url.URL{}
		}
		r := &http.Request{Method: http.MethodGet, RequestURI: requestURI, URL: u, Host: host, Header: http.Header{}}
		if connection != "" {
			r.Header.Set("Connection", connection)
		}
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		id, err := v.VerifyPresigned(r)
		if err == nil {
			if id.AccessKeyID != testKeyID || id.Service != "iotdevicegateway" {
				t.Fatalf("verified with identity %+v", id)
			}
			return
		}
		e, ok := err.(*sigv4.Error)
		if !ok || !codes[e.Code] || e.Message == "" {
			t.Fatalf("VerifyPresigned returned %#v", err)
		}
	})
}
