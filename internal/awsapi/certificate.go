package awsapi

import (
	"github.com/iotcore/iotcore/internal/registry"
)

func registerCertificate(s *Server, r *request) (any, error) {
	var in struct {
		CertificatePem   string `json:"certificatePem"`
		CACertificatePem string `json:"caCertificatePem"`
		Status           string `json:"status"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	setAsActive, err := r.queryBool("setAsActive")
	if err != nil {
		return nil, err
	}
	c, err := s.Registry.RegisterCertificate(r.Context(), registry.RegisterCertificateInput{
		CertificatePEM: in.CertificatePem, CACertificatePEM: in.CACertificatePem, Status: in.Status, SetAsActive: setAsActive,
	})
	if err != nil {
		return nil, err
	}
	return s.certificateRef(c), nil
}

func registerCertificateWithoutCA(s *Server, r *request) (any, error) {
	var in struct {
		CertificatePem string `json:"certificatePem"`
		Status         string `json:"status"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	c, err := s.Registry.RegisterCertificateWithoutCA(r.Context(), in.CertificatePem, in.Status)
	if err != nil {
		return nil, err
	}
	return s.certificateRef(c), nil
}

func (s *Server) certificateRef(c *registry.Certificate) obj {
	return obj{"certificateArn": s.Registry.Account.CertificateARN(c.ID), "certificateId": c.ID}
}

func updateCertificate(s *Server, r *request) (any, error) {
	return nil, s.Registry.UpdateCertificate(r.Context(), r.label("certificateId"), r.query("newStatus"))
}

func describeCertificate(s *Server, r *request) (any, error) {
	c, err := s.Registry.Certificate(r.Context(), r.label("certificateId"))
	if err != nil {
		return nil, err
	}
	d := obj{
		"certificateArn":   s.Registry.Account.CertificateARN(c.ID),
		"certificateId":    c.ID,
		"status":           c.Status,
		"certificatePem":   c.PEM,
		"ownedBy":          c.OwnedBy,
		"creationDate":     epoch(c.CreatedAt),
		"lastModifiedDate": epoch(c.UpdatedAt),
		"customerVersion":  c.CustomerVersion,
		"generationId":     c.GenerationID,
		"validity":         validity{epoch(c.NotBefore), epoch(c.NotAfter)},
		"certificateMode":  c.Mode,
		"transferData":     obj{},
	}
	if c.CAID != "" {
		d["caCertificateId"] = c.CAID
	}
	return obj{"certificateDescription": d}, nil
}

func listCertificates(s *Server, r *request) (any, error) {
	return s.listCertificates(r, "")
}

func listCertificatesByCA(s *Server, r *request) (any, error) {
	return s.listCertificates(r, r.label("caCertificateId"))
}

func (s *Server) listCertificates(r *request, caID string) (any, error) {
	asc, err := r.queryBool("isAscendingOrder")
	if err != nil {
		return nil, err
	}
	return listing(r, markers, "certificates", func(pr registry.PageRequest) ([]registry.Certificate, string, error) {
		// Provisioning claims are not listed, as on AWS (reference 6.1).
		return s.Registry.ListCertificates(r.Context(), registry.CertificateFilter{CAID: caID, Ascending: asc, WithoutClaims: true}, pr)
	}, func(c registry.Certificate) obj {
		return obj{
			"certificateArn":  s.Registry.Account.CertificateARN(c.ID),
			"certificateId":   c.ID,
			"status":          c.Status,
			"certificateMode": c.Mode,
			"creationDate":    epoch(c.CreatedAt),
		}
	})
}

func deleteCertificate(s *Server, r *request) (any, error) {
	force, err := r.queryBool("forceDelete")
	if err != nil {
		return nil, err
	}
	return nil, s.Registry.DeleteCertificate(r.Context(), r.label("certificateId"), force)
}

func createKeysAndCertificate(s *Server, r *request) (any, error) {
	setAsActive, err := r.queryBool("setAsActive")
	if err != nil {
		return nil, err
	}
	ic, err := s.Registry.CreateKeysAndCertificate(r.Context(), setAsActive)
	if err != nil {
		return nil, err
	}
	out := s.certificateRef(ic.Certificate)
	out["certificatePem"] = ic.Certificate.PEM
	out["keyPair"] = obj{"PublicKey": ic.PublicKeyPEM, "PrivateKey": ic.PrivateKeyPEM}
	return out, nil
}

func createCertificateFromCsr(s *Server, r *request) (any, error) {
	var in struct {
		CertificateSigningRequest string `json:"certificateSigningRequest"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	setAsActive, err := r.queryBool("setAsActive")
	if err != nil {
		return nil, err
	}
	c, err := s.Registry.CreateCertificateFromCSR(r.Context(), in.CertificateSigningRequest, setAsActive)
	if err != nil {
		return nil, err
	}
	out := s.certificateRef(c)
	out["certificatePem"] = c.PEM
	return out, nil
}
