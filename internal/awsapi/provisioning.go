package awsapi

func registerThing(s *Server, r *request) (any, error) {
	var in struct {
		TemplateBody string            `json:"templateBody"`
		Parameters   map[string]string `json:"parameters"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	res, err := s.Registry.RegisterThing(r.Context(), in.TemplateBody, in.Parameters)
	if err != nil {
		return nil, err
	}
	out := obj{"resourceArns": res.ResourceARNs}
	if res.CertificatePEM != "" {
		out["certificatePem"] = res.CertificatePEM
	}
	return out, nil
}
