package awsapi

import (
	"strconv"

	"github.com/iotcore/iotcore/internal/iot"
)

func createPolicy(s *Server, r *request) (any, error) {
	var in struct {
		PolicyDocument string    `json:"policyDocument"`
		Tags           []iot.Tag `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.Registry.CreatePolicy(r.Context(), r.label("policyName"), in.PolicyDocument, in.Tags)
	if err != nil {
		return nil, err
	}
	return obj{
		"policyName":      p.Name,
		"policyArn":       s.Registry.Account.PolicyARN(p.Name),
		"policyDocument":  p.Version.Document,
		"policyVersionId": strconv.FormatInt(p.Version.VersionID, 10),
	}, nil
}

func getPolicy(s *Server, r *request) (any, error) {
	p, err := s.Registry.Policy(r.Context(), r.label("policyName"))
	if err != nil {
		return nil, err
	}
	return obj{
		"policyName":       p.Name,
		"policyArn":        s.Registry.Account.PolicyARN(p.Name),
		"policyDocument":   p.Version.Document,
		"defaultVersionId": strconv.FormatInt(p.DefaultVersion, 10),
		"creationDate":     epoch(p.CreatedAt),
		"lastModifiedDate": epoch(p.UpdatedAt),
		"generationId":     p.GenerationID,
	}, nil
}

func listPolicies(s *Server, r *request) (any, error) {
	pr, err := r.markerPage()
	if err != nil {
		return nil, err
	}
	asc, err := r.queryBool("isAscendingOrder")
	if err != nil {
		return nil, err
	}
	rows, next, err := s.Registry.ListPolicies(r.Context(), asc, pr)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(rows))
	for _, p := range rows {
		names = append(names, p.Name)
	}
	return withNext(obj{"policies": s.policyRefs(names)}, "nextMarker", next), nil
}

func (s *Server) policyRefs(names []string) []obj {
	out := make([]obj, 0, len(names))
	for _, n := range names {
		out = append(out, obj{"policyName": n, "policyArn": s.Registry.Account.PolicyARN(n)})
	}
	return out
}

func deletePolicy(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeletePolicy(r.Context(), r.label("policyName"))
}

func createPolicyVersion(s *Server, r *request) (any, error) {
	var in struct {
		PolicyDocument string `json:"policyDocument"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	setAsDefault, err := r.queryBool("setAsDefault")
	if err != nil {
		return nil, err
	}
	name := r.label("policyName")
	v, isDefault, err := s.Registry.CreatePolicyVersion(r.Context(), name, in.PolicyDocument, setAsDefault)
	if err != nil {
		return nil, err
	}
	return obj{
		"policyArn":        s.Registry.Account.PolicyARN(name),
		"policyDocument":   v.Document,
		"policyVersionId":  strconv.FormatInt(v.VersionID, 10),
		"isDefaultVersion": isDefault,
	}, nil
}

func getPolicyVersion(s *Server, r *request) (any, error) {
	p, err := s.Registry.PolicyVersion(r.Context(), r.label("policyName"), r.label("policyVersionId"))
	if err != nil {
		return nil, err
	}
	return obj{
		"policyArn":        s.Registry.Account.PolicyARN(p.Name),
		"policyName":       p.Name,
		"policyDocument":   p.Version.Document,
		"policyVersionId":  strconv.FormatInt(p.Version.VersionID, 10),
		"isDefaultVersion": p.Version.VersionID == p.DefaultVersion,
		"creationDate":     epoch(p.Version.CreatedAt),
		"lastModifiedDate": epoch(p.UpdatedAt),
		"generationId":     p.GenerationID,
	}, nil
}

func listPolicyVersions(s *Server, r *request) (any, error) {
	p, versions, err := s.Registry.ListPolicyVersions(r.Context(), r.label("policyName"))
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(versions))
	for _, v := range versions {
		out = append(out, obj{
			"versionId":        strconv.FormatInt(v.VersionID, 10),
			"isDefaultVersion": v.VersionID == p.DefaultVersion,
			"createDate":       epoch(v.CreatedAt),
		})
	}
	return obj{"policyVersions": out}, nil
}

func deletePolicyVersion(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeletePolicyVersion(r.Context(), r.label("policyName"), r.label("policyVersionId"))
}

func setDefaultPolicyVersion(s *Server, r *request) (any, error) {
	return nil, s.Registry.SetDefaultPolicyVersion(r.Context(), r.label("policyName"), r.label("policyVersionId"))
}

type targetBody struct {
	Target string `json:"target"`
}

func attachPolicy(s *Server, r *request) (any, error) {
	var in targetBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.Registry.AttachPolicy(r.Context(), r.label("policyName"), in.Target)
}

func detachPolicy(s *Server, r *request) (any, error) {
	var in targetBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.Registry.DetachPolicy(r.Context(), r.label("policyName"), in.Target)
}

func listAttachedPolicies(s *Server, r *request) (any, error) {
	return s.listAttachedPolicies(r, r.label("target"))
}

func (s *Server) listAttachedPolicies(r *request, target string) (any, error) {
	pr, err := r.markerPage()
	if err != nil {
		return nil, err
	}
	recursive, err := r.queryBool("recursive")
	if err != nil {
		return nil, err
	}
	names, next, err := s.Registry.ListAttachedPolicies(r.Context(), target, recursive, pr)
	if err != nil {
		return nil, err
	}
	return withNext(obj{"policies": s.policyRefs(names)}, "nextMarker", next), nil
}

func listTargetsForPolicy(s *Server, r *request) (any, error) {
	pr, err := r.markerPage()
	if err != nil {
		return nil, err
	}
	targets, next, err := s.Registry.ListTargetsForPolicy(r.Context(), r.label("policyName"), pr)
	if err != nil {
		return nil, err
	}
	return withNext(obj{"targets": nonNil(targets)}, "nextMarker", next), nil
}

// The deprecated principal-policy operations are the policy-target ones with
// the principal in a header.

func attachPrincipalPolicy(s *Server, r *request) (any, error) {
	return nil, s.Registry.AttachPolicy(r.Context(), r.label("policyName"), r.Header.Get("x-amzn-iot-principal"))
}

func detachPrincipalPolicy(s *Server, r *request) (any, error) {
	return nil, s.Registry.DetachPolicy(r.Context(), r.label("policyName"), r.Header.Get("x-amzn-iot-principal"))
}

func listPrincipalPolicies(s *Server, r *request) (any, error) {
	return s.listAttachedPolicies(r, r.Header.Get("x-amzn-iot-principal"))
}

func listPolicyPrincipals(s *Server, r *request) (any, error) {
	pr, err := r.markerPage()
	if err != nil {
		return nil, err
	}
	targets, next, err := s.Registry.ListTargetsForPolicy(r.Context(), r.Header.Get("x-amzn-iot-policy"), pr)
	if err != nil {
		return nil, err
	}
	return withNext(obj{"principals": nonNil(targets)}, "nextMarker", next), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
