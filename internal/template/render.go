package template

// Resources is what a rendered template provisions.
type Resources struct {
	Thing       *Thing       `json:"Thing,omitempty"`       // nil without an AWS::IoT::Thing
	Certificate *Certificate `json:"Certificate,omitempty"` // nil without an AWS::IoT::Certificate
	Policies    []Policy     `json:"Policies,omitempty"`    // in template order
	// DeviceConfiguration is the rendered DeviceConfiguration section, nil
	// when the template has none.
	DeviceConfiguration map[string]string `json:"DeviceConfiguration,omitempty"`
}

// LogicalIDs returns the logical names of the rendered resources: the
// thing's, the certificate's, then the policies'. RegisterThing's
// resourceArns is keyed by them.
func (r *Resources) LogicalIDs() []string {
	var ids []string
	if r.Thing != nil {
		ids = append(ids, r.Thing.LogicalID)
	}
	if r.Certificate != nil {
		ids = append(ids, r.Certificate.LogicalID)
	}
	for _, p := range r.Policies {
		ids = append(ids, p.LogicalID)
	}
	return ids
}

// Render resolves the template with parameter values (RegisterThing's
// parameters, or CertificateParameters for JITP) and returns the resources
// to provision, their values checked against AWS's naming rules.
//
// A parameter without a value in params takes its Default; one that has
// neither fails Render when the template uses it (a declared parameter
// that nothing uses needs no value). missing, which may be nil, explains
// why a parameter has no value; the error then says so, e.g.
// `parameter "AWS::IoT::Certificate::Country" has no value: the
// certificate subject has no C (country) attribute`. The two maps are what
// CertificateParameters returns:
//
//	res, err := t.Render(template.CertificateParameters(cert, id))
//
// The error is an *Error; when it is about a parameter without a value,
// its Parameter field names it.
func (t *Template) Render(params, missing map[string]string) (*Resources, error) {
	r := &renderer{t: t, params: params, missing: missing}
	out := &Resources{}
	for _, res := range t.resources {
		if err := res.render(r, out); err != nil {
			return nil, err
		}
	}
	if t.deviceSet {
		out.DeviceConfiguration = make(map[string]string, len(t.device))
		for _, d := range t.device {
			v, err := r.str(d.value)
			if err != nil {
				return nil, err
			}
			out.DeviceConfiguration[d.key] = v
		}
	}
	return out, nil
}

// renderer holds one Render's inputs.
type renderer struct {
	t       *Template
	params  map[string]string
	missing map[string]string
}

// str evaluates an expression that must give a string.
func (r *renderer) str(e expr) (string, error) {
	v, err := e.eval(r)
	if err != nil {
		return "", err
	}
	if v.isList {
		return "", errorf(e.at(), "%s gives a list, but a string is required here", e.what())
	}
	return v.str, nil
}

// list evaluates an expression that must give a list.
func (r *renderer) list(e expr) ([]string, error) {
	v, err := e.eval(r)
	if err != nil {
		return nil, err
	}
	if !v.isList {
		return nil, errorf(e.at(), "%s gives a string, but a list is required here", e.what())
	}
	return v.list, nil
}

// checked evaluates an expression that must give a string obeying rule.
func (r *renderer) checked(e expr, path string, rule nameRule) (string, error) {
	s, err := r.str(e)
	if err != nil {
		return "", err
	}
	if err := rule.check(s, path); err != nil {
		return "", err
	}
	return s, nil
}
