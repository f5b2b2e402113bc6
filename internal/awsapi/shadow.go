package awsapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// ShadowService serves the data plane's Device Shadow operations (aws
// iot-data get-thing-shadow and the rest). The documents it takes and gives
// are AWS's, byte for byte: the REST API's response bodies are the same
// documents as the MQTT accepted topics' payloads. Errors are *iot.Error
// with the data plane's codes and statuses.
type ShadowService interface {
	GetThingShadow(ctx context.Context, thing, name string) ([]byte, error)
	UpdateThingShadow(ctx context.Context, thing, name string, payload []byte) ([]byte, error)
	DeleteThingShadow(ctx context.Context, thing, name string) ([]byte, error)
	ListNamedShadows(ctx context.Context, thing, token string, size int) (names []string, next string, err error)
}

// shadowService is the configured ShadowService, or the error of a server
// without one.
func (s *Server) shadowService() (ShadowService, error) {
	if s.Shadows == nil {
		return nil, iot.Errorf(iot.ServiceUnavailable, "this server serves no device shadows")
	}
	return s.Shadows, nil
}

func getThingShadow(s *Server, r *request) (any, error) {
	svc, err := s.shadowService()
	if err != nil {
		return nil, err
	}
	doc, err := svc.GetThingShadow(r.Context(), r.label("thingName"), r.query("name"))
	if err != nil {
		return nil, err
	}
	return json.RawMessage(doc), nil
}

func updateThingShadow(s *Server, r *request) (any, error) {
	svc, err := s.shadowService()
	if err != nil {
		return nil, err
	}
	doc, err := svc.UpdateThingShadow(r.Context(), r.label("thingName"), r.query("name"), r.body)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(doc), nil
}

func deleteThingShadow(s *Server, r *request) (any, error) {
	svc, err := s.shadowService()
	if err != nil {
		return nil, err
	}
	doc, err := svc.DeleteThingShadow(r.Context(), r.label("thingName"), r.query("name"))
	if err != nil {
		return nil, err
	}
	return json.RawMessage(doc), nil
}

// listNamedShadowsForThing answers {"results": [...], "nextToken": ..., "timestamp": <epoch seconds>}.
func listNamedShadowsForThing(s *Server, r *request) (any, error) {
	svc, err := s.shadowService()
	if err != nil {
		return nil, err
	}
	size, err := r.pageSize("pageSize")
	if err != nil {
		return nil, err
	}
	names, next, err := svc.ListNamedShadows(r.Context(), r.label("thingName"), r.query("nextToken"), size)
	if err != nil {
		return nil, err
	}
	out := obj{"results": nonNil(names), "timestamp": time.Now().Unix()}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
