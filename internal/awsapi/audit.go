package awsapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
)

// callInfo is what ServeHTTP learns about a call while serving it, for the
// request log and the audit log.
type callInfo struct {
	op        string
	refused   bool   // answered before the signature was verified
	principal string // the access key id that signed the call, once verified
	labels    map[string]string
	route     *route
	body      []byte
}

// auditedBodyFields are the request body members that name what a change is
// about; the rest of a body (documents, certificates) is not audited.
var auditedBodyFields = []string{"target", "thingName", "thingArn", "thingGroupName", "thingGroupArn", "billingGroupName", "billingGroupArn", "resourceArn", "templateName", "tagKeys"}

// readOnlyPrefixes name the operations that change nothing; every other
// operation is a change and is audited.
var readOnlyPrefixes = []string{"Describe", "Get", "List"}

// changes reports whether an operation may change the registry.
func changes(op string) bool {
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}

// audit writes one record per signed call that may change the registry:
// who (the access key id), what (the operation, its resource names from the
// path, the query) and when, with the outcome. Bodies are never written:
// responses carry private keys (CreateKeysAndCertificate).
func (s *Server) audit(hr *http.Request, requestID string, call *callInfo, status int, code string) {
	// A data-plane Publish changes no registry: the request log has it.
	if s.Audit == nil || call.route == nil || call.route.dataPlane || call.principal == "" || !changes(call.op) {
		return
	}
	attrs := []any{
		slog.String("principal", call.principal),
		slog.String("op", call.op),
		slog.String("request_id", requestID),
		slog.Int("status", status),
	}
	if code != "" {
		attrs = append(attrs, slog.String("error_code", code))
	}
	if len(call.labels) > 0 {
		resource := make([]any, 0, len(call.labels))
		for k, v := range call.labels {
			resource = append(resource, slog.String(k, clip(v)))
		}
		attrs = append(attrs, slog.Group("resource", resource...))
	}
	if q := hr.URL.RawQuery; q != "" {
		attrs = append(attrs, slog.String("query", clip(q)))
	}
	var body map[string]any
	if json.Unmarshal(call.body, &body) == nil {
		for _, k := range auditedBodyFields {
			switch v := body[k].(type) {
			case nil:
			case string:
				attrs = append(attrs, slog.String(k, clip(v)))
			default:
				attrs = append(attrs, slog.Any(k, v))
			}
		}
	}
	if p := hr.Header.Get("x-amzn-principal"); p != "" {
		attrs = append(attrs, slog.String("target_principal", clip(p)))
	}
	s.Audit.Info("control-plane change", attrs...)
}
