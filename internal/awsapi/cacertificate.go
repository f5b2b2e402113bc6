package awsapi

import (
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

type registrationConfig struct {
	TemplateBody *string `json:"templateBody,omitempty"`
	RoleArn      *string `json:"roleArn,omitempty"`
	TemplateName *string `json:"templateName,omitempty"`
}

func (rc *registrationConfig) toRegistry() *registry.RegistrationConfig {
	if rc == nil {
		return nil
	}
	return &registry.RegistrationConfig{TemplateBody: deref(rc.TemplateBody), RoleARN: deref(rc.RoleArn), TemplateName: deref(rc.TemplateName)}
}

func fromRegistration(rc registry.RegistrationConfig) *registrationConfig {
	if rc.Empty() {
		return nil
	}
	return &registrationConfig{TemplateBody: optional(rc.TemplateBody), RoleArn: optional(rc.RoleARN), TemplateName: optional(rc.TemplateName)}
}

type validity struct {
	NotBefore epoch `json:"notBefore,omitzero"`
	NotAfter  epoch `json:"notAfter,omitzero"`
}

func getRegistrationCode(s *Server, r *request) (any, error) {
	code, err := s.Registry.RegistrationCode(r.Context())
	if err != nil {
		return nil, err
	}
	return obj{"registrationCode": code}, nil
}

func deleteRegistrationCode(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeleteRegistrationCode(r.Context())
}

func registerCACertificate(s *Server, r *request) (any, error) {
	var in struct {
		CACertificate           string              `json:"caCertificate"`
		VerificationCertificate string              `json:"verificationCertificate"`
		RegistrationConfig      *registrationConfig `json:"registrationConfig"`
		Tags                    []iot.Tag           `json:"tags"`
		CertificateMode         string              `json:"certificateMode"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	setAsActive, err := r.queryBool("setAsActive")
	if err != nil {
		return nil, err
	}
	allowAuto, err := r.queryBool("allowAutoRegistration")
	if err != nil {
		return nil, err
	}
	ca, err := s.Registry.RegisterCACertificate(r.Context(), registry.RegisterCAInput{
		CACertificatePEM:           in.CACertificate,
		VerificationCertificatePEM: in.VerificationCertificate,
		SetAsActive:                setAsActive,
		AllowAutoRegistration:      allowAuto,
		Registration:               in.RegistrationConfig.toRegistry(),
		Tags:                       in.Tags,
		Mode:                       in.CertificateMode,
	})
	if err != nil {
		return nil, err
	}
	return obj{"certificateArn": s.Registry.Account.CACertificateARN(ca.ID), "certificateId": ca.ID}, nil
}

func updateCACertificate(s *Server, r *request) (any, error) {
	var in struct {
		RegistrationConfig     *registrationConfig `json:"registrationConfig"`
		RemoveAutoRegistration bool                `json:"removeAutoRegistration"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.Registry.UpdateCACertificate(r.Context(), registry.UpdateCAInput{
		ID:                     r.label("caCertificateId"),
		NewStatus:              r.query("newStatus"),
		NewAutoRegistration:    r.query("newAutoRegistrationStatus"),
		Registration:           in.RegistrationConfig.toRegistry(),
		RemoveAutoRegistration: in.RemoveAutoRegistration,
	})
}

func describeCACertificate(s *Server, r *request) (any, error) {
	ca, err := s.Registry.CACertificate(r.Context(), r.label("caCertificateId"))
	if err != nil {
		return nil, err
	}
	out := obj{"certificateDescription": obj{
		"certificateArn":         s.Registry.Account.CACertificateARN(ca.ID),
		"certificateId":          ca.ID,
		"status":                 ca.Status,
		"certificatePem":         ca.PEM,
		"ownedBy":                ca.OwnedBy,
		"creationDate":           epoch(ca.CreatedAt),
		"autoRegistrationStatus": ca.AutoRegistration,
		"lastModifiedDate":       epoch(ca.UpdatedAt),
		"customerVersion":        ca.CustomerVersion,
		"generationId":           ca.GenerationID,
		"validity":               validity{epoch(ca.NotBefore), epoch(ca.NotAfter)},
		"certificateMode":        ca.Mode,
	}}
	if rc := fromRegistration(ca.Registration); rc != nil {
		out["registrationConfig"] = rc
	}
	return out, nil
}

func listCACertificates(s *Server, r *request) (any, error) {
	asc, err := r.queryBool("isAscendingOrder")
	if err != nil {
		return nil, err
	}
	return listing(r, markers, "certificates", func(pr registry.PageRequest) ([]registry.CACertificate, string, error) {
		return s.Registry.ListCACertificates(r.Context(), registry.CACertificateFilter{TemplateName: r.query("templateName"), Ascending: asc}, pr)
	}, func(ca registry.CACertificate) obj {
		return obj{
			"certificateArn": s.Registry.Account.CACertificateARN(ca.ID),
			"certificateId":  ca.ID,
			"status":         ca.Status,
			"creationDate":   epoch(ca.CreatedAt),
		}
	})
}

func deleteCACertificate(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeleteCACertificate(r.Context(), r.label("caCertificateId"))
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
