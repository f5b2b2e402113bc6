package template

import (
	"maps"
	"slices"
	"strings"
)

// Certificate is a rendered AWS::IoT::Certificate resource. Exactly one of
// CertificateID, CertificatePem and CertificateSigningRequest is set; JITP
// and fleet provisioning accept only CertificateID [DOC].
type Certificate struct {
	LogicalID                 string `json:"LogicalID"`
	CertificateID             string `json:"CertificateId,omitempty"`
	CertificatePem            string `json:"CertificatePem,omitempty"`
	CertificateSigningRequest string `json:"CertificateSigningRequest,omitempty"`
	CACertificatePem          string `json:"CACertificatePem,omitempty"` // only with CertificatePem
	// Status is ACTIVE or INACTIVE, or "" when the template does not set
	// it (AWS then makes the certificate ACTIVE [DOC]).
	Status string `json:"Status,omitempty"`
	// OverrideSettings maps Status to one of the Override* values.
	OverrideSettings map[string]string `json:"OverrideSettings,omitempty"`
}

// Certificate properties [DOC provision-template "Certificate resources"].
var certificateProperties = []string{"CertificateId", "CertificatePem", "CertificateSigningRequest", "CACertificatePem", "Status"}

// certificateStatuses are the values Status may take. AWS's own fleet
// provisioning examples write "Active", so case is ignored and the value
// normalised to upper case.
var certificateStatuses = []string{"ACTIVE", "INACTIVE"}

type certificateDef struct {
	id, path                string
	certID, pem, csr, caPem expr
	status                  expr
	overrides               map[string]string
}

func (p *parser) certificate(id string, props *jsonValue, ppath string, over *jsonValue, opath string) (resource, error) {
	if err := checkProperties(props, ppath, TypeCertificate, certificateProperties); err != nil {
		return nil, err
	}
	d := &certificateDef{id: id, path: ppath}
	var set []string
	for _, f := range []struct {
		name string
		dst  *expr
	}{{"CertificateId", &d.certID}, {"CertificatePem", &d.pem}, {"CertificateSigningRequest", &d.csr}, {"CACertificatePem", &d.caPem}, {"Status", &d.status}} {
		e, err := p.optional(props, ppath, f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = e
		if e != nil && f.name != "CACertificatePem" && f.name != "Status" {
			set = append(set, f.name)
		}
	}
	switch {
	case len(set) == 0:
		return nil, errorf(ppath, "an %s needs CertificateId, CertificatePem or CertificateSigningRequest", TypeCertificate)
	case len(set) > 1:
		return nil, errorf(ppath, "an %s takes only one of CertificateId, CertificatePem and CertificateSigningRequest, but has %s", TypeCertificate, listWords(set))
	case d.caPem != nil && d.pem == nil:
		return nil, errorf(join(ppath, "CACertificatePem"), "is allowed only with CertificatePem")
	}
	if err := checkLiteral(d.certID, join(ppath, "CertificateId"), checkCertificateID); err != nil {
		return nil, err
	}
	if err := checkLiteral(d.status, join(ppath, "Status"), checkStatus); err != nil {
		return nil, err
	}
	var err error
	if d.overrides, err = overrides(over, opath, TypeCertificate, []string{"Status"}, nil); err != nil {
		return nil, err
	}
	return d, nil
}

// checkStatus checks a Status value.
func checkStatus(s, path string) error {
	if !slices.Contains(certificateStatuses, strings.ToUpper(s)) {
		return errorf(path, "%s is not a certificate status a template can set; it must be ACTIVE or INACTIVE", quote(s))
	}
	return nil
}

func (d *certificateDef) render(r *renderer, out *Resources) error {
	c := &Certificate{LogicalID: d.id, OverrideSettings: maps.Clone(d.overrides)}
	var err error
	if d.certID != nil {
		if c.CertificateID, err = r.str(d.certID); err != nil {
			return err
		}
		if err := checkCertificateID(c.CertificateID, join(d.path, "CertificateId")); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		e   expr
		dst *string
	}{{d.pem, &c.CertificatePem}, {d.csr, &c.CertificateSigningRequest}, {d.caPem, &c.CACertificatePem}} {
		if f.e == nil {
			continue
		}
		if *f.dst, err = r.str(f.e); err != nil {
			return err
		}
	}
	if d.status != nil {
		s, err := r.str(d.status)
		if err != nil {
			return err
		}
		if err := checkStatus(s, join(d.path, "Status")); err != nil {
			return err
		}
		c.Status = strings.ToUpper(s)
	}
	out.Certificate = c
	return nil
}
