package sigv4_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
)

// FuzzVerify feeds Verify arbitrary methods, request URIs, hosts, headers and
// bodies, seeded with the signed requests of the table. It must never panic,
// and must fail only with the documented codes.
func FuzzVerify(f *testing.F) {
	for _, c := range signCases {
		r := c.build(f, "http://iot.test")
		f.Add(r.Method, r.URL.RequestURI(), r.Host, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"),
			r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get("Content-Type"), []byte(c.body))
	}
	f.Add("GET", "/a/../../b//c/./%zz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-1", "h",
		"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;, Signature=", "x", "UNSIGNED-PAYLOAD", "", []byte(nil))
	f.Add("GET", "http://iot.test/x?a=%", "", "AWS4-HMAC-SHA256 ,,,=,Credential==", "20260304T050607Z", "", "", []byte{0})

	v := newVerifier(func() time.Time { return testNow })
	codes := map[string]bool{
		sigv4.MissingAuthenticationToken: true, sigv4.IncompleteSignature: true,
		sigv4.UnrecognizedClient: true, sigv4.InvalidSignature: true,
	}
	f.Fuzz(func(t *testing.T, method, requestURI, host, authorization, amzDate, contentSHA, contentType string, body []byte) {
		u, err := url.ParseRequestURI(requestURI)
		if err != nil {
			u = &url.URL{}
		}
		r := &http.Request{Method: method, RequestURI: requestURI, URL: u, Host: host, Header: http.Header{}}
		for k, v := range map[string]string{
			"Authorization": authorization, "X-Amz-Date": amzDate,
			"X-Amz-Content-Sha256": contentSHA, "Content-Type": contentType,
		} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		id, err := v.Verify(r, body)
		if err == nil {
			if id.AccessKeyID != testKeyID || (id.Service != "iot" && id.Service != "execute-api") || id.Region == "" {
				t.Fatalf("verified with identity %+v", id)
			}
			return
		}
		var e *sigv4.Error
		if !errors.As(err, &e) || !codes[e.Code] || e.Message == "" {
			t.Fatalf("Verify returned %#v", err)
		}
	})
}
