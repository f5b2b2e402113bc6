package awsapi

import (
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

func tagResource(s *Server, r *request) (any, error) {
	var in struct {
		ResourceArn string    `json:"resourceArn"`
		Tags        []iot.Tag `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.Registry.TagResource(r.Context(), in.ResourceArn, in.Tags)
}

func untagResource(s *Server, r *request) (any, error) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.Registry.UntagResource(r.Context(), in.ResourceArn, in.TagKeys)
}

func listTagsForResource(s *Server, r *request) (any, error) {
	return listing(r, tokens, "tags", func(pr registry.PageRequest) ([]iot.Tag, string, error) {
		return s.Registry.ListTags(r.Context(), r.query("resourceArn"), pr)
	}, same)
}
