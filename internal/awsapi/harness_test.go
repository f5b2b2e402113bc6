package awsapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iotcore/iotcore/internal/awsapi"
	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/registry"
)

const (
	testKeyID  = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// countingStore is a registry store that serves nothing and counts the
// transactions asked of it: the cases here are decided before the registry,
// or prove that a request got that far.
type countingStore struct{ calls atomic.Int64 }

var errTestStore = &iot.Error{Code: iot.ServiceUnavailable, Message: "the test store serves nothing"}

func (s *countingStore) Update(context.Context, func(registry.Tx) error) error {
	s.calls.Add(1)
	return errTestStore
}

func (s *countingStore) View(context.Context, func(registry.Tx) error) error {
	s.calls.Add(1)
	return errTestStore
}

func (s *countingStore) Read(context.Context, func(registry.Tx) error) error {
	s.calls.Add(1)
	return errTestStore
}

// newAPI returns the API as internal/server configures it, with a counting
// store; configure may change its fields before New.
func newAPI(t *testing.T, configure func(*awsapi.Server)) (*awsapi.Server, *countingStore) {
	t.Helper()
	store := &countingStore{}
	s := &awsapi.Server{
		Registry: &registry.Service{Store: store, Account: iot.Account{ID: "123456789012", Region: "us-east-1"}},
		Verifier: &sigv4.Verifier{
			Service:        "iot",
			ServiceAliases: []string{"execute-api"},
			Secret: func(id string) (string, bool) {
				return testSecret, id == testKeyID
			},
		},
		Endpoint: "iot.test",
	}
	if configure != nil {
		configure(s)
	}
	return awsapi.New(s), store
}

// signed returns a request for target (path and query) signed as aws-sdk-go-v2
// signs it, for service and region, with secret.
type signed struct {
	method, target, body string
	service, region      string // default iot, us-east-1
	keyID, secret        string // default the test key
}

func (c signed) request(t *testing.T) *http.Request {
	t.Helper()
	r := httptest.NewRequest(or(c.method, "GET"), c.target, strings.NewReader(c.body))
	if c.body == "" {
		r.Body, r.ContentLength = http.NoBody, 0
	} else {
		r.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(c.body))
	creds := aws.Credentials{AccessKeyID: or(c.keyID, testKeyID), SecretAccessKey: or(c.secret, testSecret)}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]),
		or(c.service, "iot"), or(c.region, "us-east-1"), time.Now()); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return r
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// answer is an API answer: status, x-amzn-ErrorType and the message.
type answer struct {
	Status  int
	Code    string
	Message string
	Header  http.Header
	Close   bool // the server closes the connection after the answer
}

func serve(t *testing.T, h http.Handler, r *http.Request) answer {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return readAnswer(t, w.Result())
}

func readAnswer(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	a := answer{Status: resp.StatusCode, Code: resp.Header.Get("x-amzn-ErrorType"), Header: resp.Header, Close: resp.Close}
	if a.Code != "" {
		var body struct{ Message string }
		if err := json.Unmarshal(data, &body); err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("error answer %d %s is not AWS-shaped JSON: %v\n%s", a.Status, a.Code, err, data)
		}
		a.Message = body.Message
	}
	return a
}

// needProgram runs a program the test needs: without it the test fails
// in CI and is skipped elsewhere (iottest.NeedProgram).
func needProgram(t *testing.T, name string, args ...string) {
	t.Helper()
	iottest.NeedProgram(t, name, args...)
}
