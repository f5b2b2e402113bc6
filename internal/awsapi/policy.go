package awsapi

import (
	"strconv"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
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
	asc, err := r.queryBool("isAscendingOrder")
	if err != nil {
		return nil, err
	}
	return listing(r, markers, "policies", func(pr registry.PageRequest) ([]registry.Policy, string, error) {
		return s.Registry.ListPolicies(r.Context(), asc, pr)
	}, func(p registry.Policy) obj { return s.policyRef(p.Name) })
}

func (s *Server) policyRef(name string) obj {
	return obj{"policyName": name, "policyArn": s.Registry.Account.PolicyARN(name)}
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
	recursive, err := r.queryBool("recursive")
	if err != nil {
		return nil, err
	}
	return listing(r, markers, "policies", func(pr registry.PageRequest) ([]string, string, error) {
		return s.Registry.ListAttachedPolicies(r.Context(), target, recursive, pr)
	}, s.policyRef)
}

func listTargetsForPolicy(s *Server, r *request) (any, error) {
	return listing(r, markers, "targets", func(pr registry.PageRequest) ([]string, string, error) {
		return s.Registry.ListTargetsForPolicy(r.Context(), r.label("policyName"), pr)
	}, same)
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
	return listing(r, markers, "principals", func(pr registry.PageRequest) ([]string, string, error) {
		return s.Registry.ListTargetsForPolicy(r.Context(), r.Header.Get("x-amzn-iot-policy"), pr)
	}, same)
}
