package template

import "slices"

// Sections of a template body [DOC provision-template]. Conditions is not
// documented for AWS IoT templates; it is accepted and ignored.
var sections = []string{"Parameters", "Resources", "Mappings", "DeviceConfiguration", "Conditions"}

// Template is a parsed and checked provisioning template. It is immutable
// and safe for concurrent use; Render it once per device.
type Template struct {
	params    map[string]*Parameter
	order     []string // declared parameter names, in template order
	mappings  map[string]mapping
	resources []resource // in template order
	ids       []string   // resource logical IDs, in template order
	device    []deviceSetting
	deviceSet bool
	refs      []string // parameters referenced, in the order first met
	refSet    map[string]bool
}

// Parse parses and checks a template body: the JSON text stored in a CA's
// registrationConfig.templateBody or in a provisioning template. Every
// problem the template's text alone can reveal is reported here: syntax,
// unknown sections, resource types, properties and functions, references
// to undeclared parameters or absent mappings, literal values that break
// AWS's naming rules. The error is an *Error.
func Parse(body string) (*Template, error) {
	root, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	if root.kind != jsonObject {
		return nil, errorf("", "the template must be a JSON object, got %s", root.kind)
	}
	for _, k := range root.keys {
		if !slices.Contains(sections, k) {
			return nil, errorf("", "unknown section %q%s; a template has Parameters, Resources, Mappings, DeviceConfiguration and Conditions", k, didYouMean(k, sections))
		}
	}
	t := &Template{params: map[string]*Parameter{}, refSet: map[string]bool{}}
	p := &parser{t: t}
	if v, ok := root.member("Parameters"); ok {
		if err := p.parameters(v); err != nil {
			return nil, err
		}
	}
	if v, ok := root.member("Mappings"); ok {
		if err := p.mappings(v); err != nil {
			return nil, err
		}
	}
	if v, ok := root.member("Conditions"); ok && v.kind != jsonObject {
		return nil, errorf("Conditions", "must be an object, got %s", v.kind)
	}
	v, ok := root.member("Resources")
	if !ok {
		return nil, errorf("", "the template has no Resources section")
	}
	if err := p.resources(v); err != nil {
		return nil, err
	}
	if v, ok := root.member("DeviceConfiguration"); ok {
		if err := p.deviceConfiguration(v); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// parser holds what parsing needs beyond the Template being built.
type parser struct {
	t *Template
}

// References returns the names of the parameters the template uses (by
// Ref or Fn::Sub), in the order they first appear. A parameter that is
// declared but never used is not among them, and Render never needs a
// value for it.
func (t *Template) References() []string {
	return slices.Clone(t.refs)
}

// LogicalIDs returns the logical names of the template's resources, in
// template order.
func (t *Template) LogicalIDs() []string {
	return slices.Clone(t.ids)
}
