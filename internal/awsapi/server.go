package awsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/loglimit"
	"github.com/iotcore/iotcore/internal/registry"
)

// DefaultMaxBodyBytes bounds request bodies. The largest model member is a
// policy document (404,600 characters); certificates are at most 64 KiB.
const DefaultMaxBodyBytes = 1 << 20

// DefaultMaxBodyBytesInFlight bounds the request bodies held at once: 64
// bodies of the largest size, or thousands of ordinary ones (a few hundred
// bytes each).
const DefaultMaxBodyBytesInFlight = 64 << 20

// Server is the AWS IoT control-plane HTTP handler.
type Server struct {
	Registry *registry.Service
	Verifier *sigv4.Verifier

	// Endpoint is the host name DescribeEndpoint returns (the MQTT endpoint devices use).
	Endpoint string

	// Data receives the messages of the data plane's Publish (aws iot-data
	// publish, signed for DataPlaneSigningName, which Verifier must
	// accept); nil answers every data-plane call with
	// UnknownOperationException.
	Data DataPublisher
	// Shadows serves the Device Shadow operations of the data plane; nil
	// answers them ServiceUnavailableException.
	Shadows ShadowService

	// Index answers SearchIndex; nil answers it ServiceUnavailableException.
	Index FleetIndex

	// RuleSQL parses the SQL of CreateTopicRule and ReplaceTopicRule for
	// the rule's topic pattern; nil refuses both with InternalException.
	RuleSQL RuleSQL
	// RuleFailures lists the rules engine's latest action failures for
	// iotcore's ListTopicRuleFailures; nil answers that there is no engine.
	RuleFailures RuleFailures

	// Logger receives one line per request; nil discards. Lines for refused
	// requests (see Audit) are rate-limited, and every value a client
	// controls is truncated.
	Logger *slog.Logger

	// Audit receives one record per signed call that may change the
	// registry (who, what, when, outcome), and one per refused request (no
	// signature, an unknown key, a bad signature, a service iotcore does not
	// serve), rate-limited as in Logger; nil audits nothing.
	Audit *slog.Logger

	// Metrics counts requests by operation and answer; nil counts nothing.
	Metrics RequestCounter

	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// MaxBodyBytesInFlight bounds the bytes of request bodies held at once
	// by all requests together, from the start of reading a body until its
	// answer is written; a body of unknown length counts as MaxBodyBytes. A
	// request whose body does not fit is answered at once, without reading
	// the body, with ServiceUnavailableException (503), which the SDKs
	// retry: waiting would hold its connection and goroutine for nothing.
	// Only requests whose signature names a known key get this far. 0 means
	// DefaultMaxBodyBytesInFlight.
	MaxBodyBytesInFlight int64

	// Now returns the current time, for the rate limit of refusal lines;
	// nil means time.Now.
	Now func() time.Time

	router *router
	// dataRouter holds the data-plane routes (dataRoutes).
	dataRouter *router
	// bodies holds the bytes of MaxBodyBytesInFlight.
	bodies *semaphore.Weighted
	// refusals rate-limits the log and audit lines of refused requests.
	refusals loglimit.Limiter
	// regionsWarned remembers the signing regions already warned about.
	regionsWarned sync.Map
}

type handlerFunc func(s *Server, r *request) (any, error)

// RequestCounter records each request's operation, answer and latency.
type RequestCounter interface {
	APIRequest(op, code string, d time.Duration)
}

// request is one decoded API call.
type request struct {
	*http.Request
	op     string
	labels map[string]string
	body   []byte
}

func (r *request) label(name string) string { return r.labels[name] }

// decode reads the JSON body into v; an empty body leaves v alone.
func (r *request) decode(v any) error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(v); err != nil {
		return iot.Errorf(iot.InvalidRequest, "the request body is not valid JSON for %s: %v", r.op, err)
	}
	// A body is one JSON value: content after it ({"a":1} x, {}{}) makes
	// the body malformed JSON, not a value followed by noise.
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return iot.Errorf(iot.InvalidRequest, "the request body is not valid JSON for %s: "+
			"content follows the JSON value that ends at offset %d", r.op, end)
	}
	return nil
}

func (r *request) query(name string) string { return r.URL.Query().Get(name) }

func (r *request) queryBool(name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, iot.Errorf(iot.InvalidRequest, "query parameter %s must be true or false, got %q", name, v)
	}
	return b, nil
}

func (r *request) queryInt(name string) (int64, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, iot.Errorf(iot.InvalidRequest, "query parameter %s must be an integer, got %q", name, v)
	}
	return n, true, nil
}

// ServeHTTP verifies the request's signature, routes it and writes the answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	if s.router == nil {
		panic("awsapi: Server used without New")
	}
	call := callInfo{op: "unknown"}
	status, code, err := s.serve(w, hr, &call)
	op := call.op
	if s.Metrics != nil {
		answer := code
		if answer == "" {
			answer = "OK"
		}
		s.Metrics.APIRequest(op, answer, time.Since(start))
	}
	if call.refused {
		s.logRefusal(hr, reqID, status, code, err, time.Since(start))
		return
	}
	s.audit(hr, reqID, &call, status, code)
	if s.Logger != nil {
		attrs := []any{"op", op, "method", clip(hr.Method), "path", clip(hr.URL.Path), "status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "request_id", reqID}
		level := slog.LevelInfo
		if code != "" {
			attrs = append(attrs, "error_code", code)
			if status >= 500 {
				level = slog.LevelError
			}
			if err != nil {
				attrs = append(attrs, "error", clipError(err.Error()))
			}
		}
		s.Logger.Log(hr.Context(), level, "api request", attrs...)
	}
}

// serve answers one request. Who sent it is checked before a byte of its
// body is read, so that requests from no one iotcore knows cost no memory
// (issue 11); only then is the body read, within MaxBodyBytes and
// MaxBodyBytesInFlight, and the signature verified over it.
func (s *Server) serve(w http.ResponseWriter, hr *http.Request, call *callInfo) (int, string, error) {
	call.refused = true
	if err := s.Verifier.Precheck(hr); err != nil {
		return s.refuse(w, hr, err, true)
	}
	body, release, err := s.readBody(hr)
	if err != nil {
		return s.refuse(w, hr, err, true)
	}
	defer release()
	id, err := s.Verifier.Verify(hr, body)
	if err != nil {
		return s.refuse(w, hr, err, false)
	}
	call.refused, call.principal = false, id.AccessKeyID
	s.warnRegion(id.Region)
	rt, labels, no := s.match(hr, id.Service)
	if no != nil {
		return writeJSONError(w, no.status, no.code, no.message, nil), no.code, nil
	}
	call.op, call.labels, call.route, call.body = rt.Op, labels, rt, body
	out, err := rt.handle(s, &request{Request: hr, op: rt.Op, labels: labels, body: body})
	if err != nil {
		return s.writeError(w, err)
	}
	if out == nil {
		out = obj{}
	}
	data, err := json.Marshal(out)
	if err != nil {
		return s.writeError(w, fmt.Errorf("%s: encoding the response: %w", rt.Op, err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return http.StatusOK, "", nil
}

// refuse answers a request whose signature was not verified: the
// authentication errors of sigv4 with 403, a request signed for a service
// iotcore does not implement with UnknownOperationException, anything else
// as writeError does. When bodyUnread, the connection is closed after the
// answer: otherwise net/http would read up to 256 KiB of the body before
// writing it, waiting on a client that may never send it.
func (s *Server) refuse(w http.ResponseWriter, hr *http.Request, err error, bodyUnread bool) (int, string, error) {
	if bodyUnread && hr.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
	var svc *sigv4.ServiceError
	if errors.As(err, &svc) {
		return writeJSONError(w, http.StatusNotFound, unknownOperation, unimplementedService(svc.Service), nil),
			unknownOperation, err
	}
	var e *sigv4.Error
	if errors.As(err, &e) && isAuthCode(e.Code) {
		return writeJSONError(w, http.StatusForbidden, e.Code, e.Message, nil), e.Code, err
	}
	return s.writeError(w, err)
}

// isAuthCode reports whether code is one of the authentication failures of
// sigv4, which AWS's front end answers with 403.
func isAuthCode(code string) bool {
	switch code {
	case sigv4.MissingAuthenticationToken, sigv4.IncompleteSignature, sigv4.UnrecognizedClient, sigv4.InvalidSignature:
		return true
	}
	return false
}

// warnRegion logs, once per region, that a client signs for another region
// than the one in iotcore's ARNs: policies written for that region (as the
// seeds' are) will then not match devices' resources.
func (s *Server) warnRegion(region string) {
	if s.Logger == nil || region == s.Registry.Account.Region {
		return
	}
	if _, seen := s.regionsWarned.LoadOrStore(region, true); !seen {
		s.Logger.Warn("a client signs its requests for another region than iotcore's ARNs use; "+
			"policies naming that region will not match: start iotcore with --region to match",
			"signed_region", region, "arn_region", s.Registry.Account.Region)
	}
}

// rawPath returns the path exactly as the client sent it, still escaped.
func rawPath(r *http.Request) string {
	if r.RequestURI != "" && !strings.HasPrefix(r.RequestURI, "http") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return r.URL.EscapedPath()
}

// writeError answers with the AWS error that err carries; anything else
// becomes InternalFailureException, whose cause is logged and never sent.
func (s *Server) writeError(w http.ResponseWriter, err error) (int, string, error) {
	var e *iot.Error
	if !errors.As(err, &e) {
		e = &iot.Error{Code: iot.InternalFailure, Message: "an internal error occurred", Err: err}
	}
	extra := obj{}
	if e.ResourceID != "" {
		extra["resourceId"] = e.ResourceID
	}
	if e.ResourceARN != "" {
		extra["resourceArn"] = e.ResourceARN
	}
	status := statusOf(e.Code)
	if e.HTTPStatus != 0 {
		status = e.HTTPStatus
	}
	writeJSONError(w, status, e.Code, e.Message, extra)
	return status, e.Code, err
}

func writeJSONError(w http.ResponseWriter, status int, code, message string, extra obj) int {
	body := obj{"message": message}
	for k, v := range extra {
		body[k] = v
	}
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", code)
	w.WriteHeader(status)
	_, _ = w.Write(data)
	return status
}
