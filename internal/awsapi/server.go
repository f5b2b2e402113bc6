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

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// DefaultMaxBodyBytes bounds request bodies. The largest model member is a
// policy document (404,600 characters); certificates are at most 64 KiB.
const DefaultMaxBodyBytes = 1 << 20

// Server is the AWS IoT control-plane HTTP handler.
type Server struct {
	Registry *registry.Service
	Verifier *sigv4.Verifier

	// Endpoint is the host name DescribeEndpoint returns (the MQTT endpoint devices use).
	Endpoint string

	// Logger receives one line per request; nil discards.
	Logger *slog.Logger

	// Audit receives one record per signed call that may change the
	// registry (who, what, when, outcome); nil audits nothing.
	Audit *slog.Logger

	// Metrics counts requests by operation and answer; nil counts nothing.
	Metrics RequestCounter

	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	router *router
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

// markerPage reads the marker-family pagination parameters.
func (r *request) markerPage() (registry.PageRequest, error) {
	n, _, err := r.queryInt("pageSize")
	return registry.PageRequest{Token: r.query("marker"), Size: int(n)}, err
}

// tokenPage reads the token-family pagination parameters.
func (r *request) tokenPage() (registry.PageRequest, error) {
	n, _, err := r.queryInt("maxResults")
	return registry.PageRequest{Token: r.query("nextToken"), Size: int(n)}, err
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
	s.audit(hr, reqID, &call, status, code)
	op := call.op
	if s.Metrics != nil {
		answer := code
		if answer == "" {
			answer = "OK"
		}
		s.Metrics.APIRequest(op, answer, time.Since(start))
	}
	if s.Logger != nil {
		attrs := []any{"op", op, "method", hr.Method, "path", hr.URL.Path, "status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "request_id", reqID}
		level := slog.LevelInfo
		if code != "" {
			attrs = append(attrs, "error_code", code)
			if status >= 500 {
				level = slog.LevelError
				attrs = append(attrs, "error", err.Error())
			} else if err != nil {
				attrs = append(attrs, "error", err.Error())
			}
		}
		s.Logger.Log(hr.Context(), level, "api request", attrs...)
	}
}

func (s *Server) serve(w http.ResponseWriter, hr *http.Request, call *callInfo) (int, string, error) {
	limit := s.MaxBodyBytes
	if limit == 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(hr.Body, limit+1))
	if err != nil {
		return s.writeError(w, iot.Errorf(iot.InvalidRequest, "reading the request body: %v", err))
	}
	if int64(len(body)) > limit {
		return s.writeError(w, iot.Errorf(iot.InvalidRequest, "the request body is larger than %d bytes", limit))
	}
	id, err := s.Verifier.Verify(hr, body)
	call.principal = id.AccessKeyID
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return writeJSONError(w, http.StatusForbidden, se.Code, se.Message, nil), se.Code, err
		}
		return s.writeError(w, err)
	}
	s.warnRegion(id.Region)
	rt, labels, pathKnown := s.router.match(hr.Method, rawPath(hr))
	if rt == nil {
		if pathKnown {
			return writeJSONError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException",
				fmt.Sprintf("%s is not allowed on %s", hr.Method, hr.URL.Path), nil), "MethodNotAllowedException", nil
		}
		return writeJSONError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("no operation is served at %s %s", hr.Method, hr.URL.Path), nil), "UnknownOperationException", nil
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
