package template

import "slices"

// CheckJITP reports why the template cannot provision devices just in
// time, or nil. iotcore refuses such a template when it is saved for JITP
// (AWS checks nothing until a device connects; docs/aws-differences.md). A
// JITP template
//
//   - must name the certificate resource by CertificateId (normally
//     {"Ref": "AWS::IoT::Certificate::Id"}) [DOC jit-provisioning
//     "Important"];
//   - can use only the AWS::IoT::Certificate::* parameters and parameters
//     with a Default, since JITP supplies no others.
func (t *Template) CheckJITP() error {
	for _, res := range t.resources {
		if c, ok := res.(*certificateDef); ok && c.certID == nil {
			return errorf(c.path, `a JITP template must name the certificate by CertificateId: {"Ref": %q}`, ParamID)
		}
	}
	for _, name := range t.refs {
		prm := t.params[name]
		if !prm.HasDefault && !slices.Contains(CertificateParameterNames, name) {
			return errorf(join("Parameters", name), "the parameter has no Default, and JITP supplies only the AWS::IoT::Certificate::* parameters")
		}
	}
	return nil
}
