package registry

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
)

const timeLayout = "2006-01-02T15:04:05Z"

// parseCertificate parses a PEM certificate from the client, or returns
// CertificateValidationException naming the field and the problem.
func parseCertificate(text, field string) (*x509.Certificate, error) {
	if strings.TrimSpace(text) == "" {
		return nil, iot.Errorf(iot.InvalidRequest, "%s is required", field)
	}
	c, err := pki.ParseCertificatePEM(text)
	if err != nil {
		return nil, &iot.Error{Code: iot.CertificateValidation, Message: field + " is not a valid PEM certificate: " + err.Error(), Err: err}
	}
	return c, nil
}

// normalizeID accepts the model's optional 0x prefix and upper-case hex.
func normalizeID(id string) string {
	return strings.ToLower(strings.TrimPrefix(id, "0x"))
}

// RegisterCertificateInput is RegisterCertificate's input.
type RegisterCertificateInput struct {
	CertificatePEM   string
	CACertificatePEM string // optional: picks the signer among CAs that share a subject
	Status           string // "" means INACTIVE (or ACTIVE with SetAsActive)
	SetAsActive      bool
}

// RegisterCertificate registers a device certificate signed by a registered CA.
func (s *Service) RegisterCertificate(ctx context.Context, in RegisterCertificateInput) (*Certificate, error) {
	cert, err := parseCertificate(in.CertificatePEM, "certificatePem")
	if err != nil {
		return nil, err
	}
	status, err := registrationStatus(in.Status, in.SetAsActive)
	if err != nil {
		return nil, err
	}
	var hint *x509.Certificate
	if in.CACertificatePEM != "" {
		if hint, err = parseCertificate(in.CACertificatePEM, "caCertificatePem"); err != nil {
			return nil, err
		}
	}
	now := s.now()
	if err := checkValidity(cert, now); err != nil {
		return nil, err
	}
	var rec *Certificate
	err = s.update(ctx, func(tx Tx, c *change) error {
		ca, err := s.findIssuer(ctx, tx, cert, hint)
		if err != nil {
			return err
		}
		if ca.Status != iot.StatusActive {
			return iot.Errorf(iot.CertificateValidation, "the CA certificate %s that signed this certificate is not ACTIVE", ca.ID)
		}
		rec = s.newCertificate(cert, ca.ID, ca.Mode, status, now)
		return s.insertCertificate(ctx, tx, c, rec)
	})
	return rec, err
}

// RegisterCertificateWithoutCA registers a certificate whose CA is not
// registered; it is registered in SNI_ONLY mode.
func (s *Service) RegisterCertificateWithoutCA(ctx context.Context, pemText, status string) (*Certificate, error) {
	cert, err := parseCertificate(pemText, "certificatePem")
	if err != nil {
		return nil, err
	}
	st, err := registrationStatus(status, false)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := checkValidity(cert, now); err != nil {
		return nil, err
	}
	rec := s.newCertificate(cert, "", iot.ModeSNIOnly, st, now)
	err = s.update(ctx, func(tx Tx, c *change) error { return s.insertCertificate(ctx, tx, c, rec) })
	return rec, err
}

func (s *Service) newCertificate(cert *x509.Certificate, caID, mode, status string, now time.Time) *Certificate {
	return &Certificate{
		ID:              pki.CertificateID(cert.Raw),
		PEM:             pki.EncodeCertificatePEM(cert),
		CAID:            caID,
		Status:          status,
		Mode:            mode,
		OwnedBy:         s.Account.ID,
		CreatedAt:       now,
		UpdatedAt:       now,
		CustomerVersion: 1,
		GenerationID:    newID(),
		NotBefore:       cert.NotBefore.UTC(),
		NotAfter:        cert.NotAfter.UTC(),
	}
}

func (s *Service) insertCertificate(ctx context.Context, tx Tx, c *change, rec *Certificate) error {
	if _, err := tx.Certificate(ctx, rec.ID); err == nil {
		return iot.AlreadyExists("certificate", rec.ID, rec.ID, s.Account.CertificateARN(rec.ID))
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	c.emit(CertificateChanged, rec.ID)
	return tx.InsertCertificate(ctx, rec)
}

// findIssuer finds the registered CA that signed cert, by signature and not by
// name alone. hint, when given, must be that CA.
func (s *Service) findIssuer(ctx context.Context, tx Tx, cert, hint *x509.Certificate) (*CACertificate, error) {
	if hint != nil {
		ca, err := tx.CACertificate(ctx, pki.CertificateID(hint.Raw))
		if err != nil {
			return nil, notFound(err, "CA certificate", pki.CertificateID(hint.Raw))
		}
		if !pki.SignedBy(cert, hint) {
			return nil, iot.Errorf(iot.CertificateValidation, "the certificate is not signed by the given CA certificate %s", ca.ID)
		}
		return ca, nil
	}
	cas, err := s.IssuersOf(ctx, tx, cert)
	if err != nil {
		return nil, err
	}
	switch len(cas) {
	case 0:
		return nil, s.noIssuer(ctx, tx, cert)
	case 1:
		return &cas[0], nil
	}
	return nil, iot.Errorf(iot.CertificateConflict,
		"more than one registered CA certificate has the subject and public key that signed this certificate; pass caCertificatePem to choose")
}

// noIssuer explains why no registered CA verifies cert: none has its issuer's
// name, or one has but its signature does not verify (a SHA-1 signature, say).
func (s *Service) noIssuer(ctx context.Context, tx Tx, cert *x509.Certificate) error {
	candidates, err := tx.CACertificatesBySubject(ctx, pki.IssuerKey(cert))
	if err != nil {
		return err
	}
	for _, ca := range candidates {
		if caCert, err := pki.ParseCertificatePEM(ca.PEM); err == nil {
			if err := pki.CheckSignedBy(cert, caCert); err != nil {
				return &iot.Error{Code: iot.CertificateValidation, Err: err,
					Message: fmt.Sprintf("the certificate is not signed by the registered CA certificate %s with its issuer's name: %v", ca.ID, err)}
			}
		}
	}
	return iot.Errorf(iot.CertificateValidation, "the certificate is not signed by any registered CA certificate (issuer %q)", cert.Issuer.String())
}

// IssuersOf returns the registered CAs (of any status) whose signature cert carries.
func (s *Service) IssuersOf(ctx context.Context, tx Tx, cert *x509.Certificate) ([]CACertificate, error) {
	candidates, err := tx.CACertificatesBySubject(ctx, pki.IssuerKey(cert))
	if err != nil {
		return nil, err
	}
	var out []CACertificate
	for _, ca := range candidates {
		caCert, err := pki.ParseCertificatePEM(ca.PEM)
		if err != nil {
			return nil, err
		}
		if pki.SignedBy(cert, caCert) {
			out = append(out, ca)
		}
	}
	return out, nil
}

func checkValidity(cert *x509.Certificate, now time.Time) error {
	if now.After(cert.NotAfter) {
		return iot.Errorf(iot.CertificateValidation, "the certificate expired on %s", cert.NotAfter.UTC().Format(timeLayout))
	}
	if now.Before(cert.NotBefore) {
		return iot.Errorf(iot.CertificateValidation, "the certificate is not valid before %s", cert.NotBefore.UTC().Format(timeLayout))
	}
	return nil
}

// registrationStatus picks the status of a newly registered certificate.
func registrationStatus(status string, setAsActive bool) (string, error) {
	switch status {
	case "":
		return statusIf(setAsActive, iot.StatusActive, iot.StatusInactive), nil
	case iot.StatusActive, iot.StatusInactive, iot.StatusRevoked:
		return status, nil
	case iot.StatusPendingTransfer, iot.StatusPendingActivation, iot.StatusRegisterInactive:
		return "", iot.Errorf(iot.InvalidRequest, "a certificate cannot be registered with status %s", status)
	}
	return "", iot.Errorf(iot.InvalidRequest, "status must be ACTIVE, INACTIVE or REVOKED, got %q", status)
}

// UpdateCertificate changes a certificate's status. A REVOKED certificate can
// never become ACTIVE again; PENDING_TRANSFER and PENDING_ACTIVATION are set
// by AWS only.
func (s *Service) UpdateCertificate(ctx context.Context, id, newStatus string) error {
	if err := iot.CertificateIDRule.Check(id); err != nil {
		return err
	}
	switch newStatus {
	case iot.StatusActive, iot.StatusInactive, iot.StatusRevoked:
	case "":
		return iot.Errorf(iot.InvalidRequest, "newStatus is required")
	case iot.StatusPendingTransfer, iot.StatusPendingActivation, iot.StatusRegisterInactive:
		return iot.Errorf(iot.InvalidRequest, "the status %s cannot be set with UpdateCertificate", newStatus)
	default:
		return iot.Errorf(iot.InvalidRequest, "newStatus must be ACTIVE, INACTIVE or REVOKED, got %q", newStatus)
	}
	id = normalizeID(id)
	return s.update(ctx, func(tx Tx, c *change) error {
		rec, err := tx.Certificate(ctx, id)
		if err != nil {
			return notFound(err, "certificate", id)
		}
		if rec.Status == newStatus {
			return nil // idempotent
		}
		if rec.Status == iot.StatusRevoked && newStatus == iot.StatusActive {
			return iot.Errorf(iot.CertificateState, "the certificate %s is REVOKED and cannot be activated", id)
		}
		if rec.Status == iot.StatusPendingTransfer {
			return iot.Errorf(iot.CertificateState, "the certificate %s is PENDING_TRANSFER", id)
		}
		rec.Status = newStatus
		rec.UpdatedAt = c.now
		rec.CustomerVersion++
		rec.GenerationID = newID()
		c.emit(CertificateChanged, id)
		return tx.UpdateCertificate(ctx, rec)
	})
}

// Certificate describes a device certificate.
func (s *Service) Certificate(ctx context.Context, id string) (*Certificate, error) {
	if err := iot.CertificateIDRule.Check(id); err != nil {
		return nil, err
	}
	id = normalizeID(id)
	var rec *Certificate
	err := s.view(ctx, func(tx Tx) error {
		var err error
		rec, err = tx.Certificate(ctx, id)
		return notFound(err, "certificate", id)
	})
	return rec, err
}

// ListCertificates lists certificates by creation date; f.CAID restricts them to one CA.
func (s *Service) ListCertificates(ctx context.Context, f CertificateFilter, pr PageRequest) ([]Certificate, string, error) {
	if f.CAID != "" {
		if err := iot.CertificateIDRule.Check(f.CAID); err != nil {
			return nil, "", err
		}
		f.CAID = normalizeID(f.CAID)
	}
	return listPage(ctx, s, pr, func(c Certificate) string { return CertificateCursor(c.CreatedAt, c.ID) }, func(tx Tx, p Page) ([]Certificate, error) {
		return tx.ListCertificates(ctx, f, p)
	})
}

// DeleteCertificate deletes a certificate that is not ACTIVE and not attached
// to a thing. Attached policies block it unless force is set, which detaches them.
func (s *Service) DeleteCertificate(ctx context.Context, id string, force bool) error {
	if err := iot.CertificateIDRule.Check(id); err != nil {
		return err
	}
	id = normalizeID(id)
	arn := s.Account.CertificateARN(id)
	return s.update(ctx, func(tx Tx, c *change) error {
		rec, err := tx.Certificate(ctx, id)
		if err != nil {
			return notFound(err, "certificate", id)
		}
		if rec.Status == iot.StatusActive {
			return iot.Errorf(iot.CertificateState, "the certificate %s is ACTIVE: deactivate it before deleting it", id)
		}
		things, err := tx.ListPrincipalThings(ctx, arn, Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(things) > 0 {
			return iot.Errorf(iot.DeleteConflict, "the certificate %s is attached to the thing %s: detach it first", id, things[0].ThingName)
		}
		policies, err := tx.ListTargetPolicies(ctx, arn, Page{Limit: MaxPoliciesPerTarget + 1})
		if err != nil {
			return err
		}
		if len(policies) > 0 && !force {
			return iot.Errorf(iot.DeleteConflict, "the certificate %s has %d attached policies (first: %s): detach them or use forceDelete", id, len(policies), policies[0])
		}
		for _, p := range policies {
			if err := tx.DetachPolicy(ctx, p, arn); err != nil {
				return err
			}
		}
		if err := tx.DeleteCertificate(ctx, id); err != nil {
			return err
		}
		c.emit(CertificateChanged, id)
		return tx.DeleteAllTags(ctx, arn)
	})
}

// IssuedCertificate is a certificate the service CA signed, with its key pair
// when the server generated it.
type IssuedCertificate struct {
	Certificate   *Certificate
	PublicKeyPEM  string
	PrivateKeyPEM string
}

// awsIssuedNotAfter is the expiry AWS gives the certificates it issues.
var awsIssuedNotAfter = time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)

// CreateKeysAndCertificate makes an RSA 2048 key pair (as AWS does) and a
// certificate for it signed by the service CA.
func (s *Service) CreateKeysAndCertificate(ctx context.Context, setAsActive bool) (*IssuedCertificate, error) {
	return s.createKeysAndCertificate(ctx, statusIf(setAsActive, iot.StatusActive, iot.StatusInactive))
}

// createKeysAndCertificate is CreateKeysAndCertificate with the new
// certificate's status.
func (s *Service) createKeysAndCertificate(ctx context.Context, status string) (*IssuedCertificate, error) {
	if s.IssuingCA == nil {
		return nil, iot.Errorf(iot.InvalidRequest, "this server has no issuing CA configured")
	}
	key, err := pki.GenerateKey(pki.KeyRSA2048)
	if err != nil {
		return nil, err
	}
	now := s.now()
	cert, err := s.IssuingCA.IssueClient(key.Public(), pkix.Name{CommonName: "AWS IoT Certificate"}, now.Add(-time.Minute), awsIssuedNotAfter)
	if err != nil {
		return nil, err
	}
	// AWS returns the private key in PKCS#1 form ("RSA PRIVATE KEY").
	priv := pki.MarshalRSAPrivateKeyPEM(key.(*rsa.PrivateKey))
	pub, err := pki.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		return nil, err
	}
	rec := s.newCertificate(cert, "", iot.ModeDefault, status, now)
	if err := s.update(ctx, func(tx Tx, c *change) error { return s.insertCertificate(ctx, tx, c, rec) }); err != nil {
		return nil, err
	}
	return &IssuedCertificate{Certificate: rec, PublicKeyPEM: pub, PrivateKeyPEM: priv}, nil
}

// CreateCertificateFromCSR signs a CSR with the service CA. The certificate
// keeps the CSR's subject.
func (s *Service) CreateCertificateFromCSR(ctx context.Context, csrPEM string, setAsActive bool) (*Certificate, error) {
	return s.createCertificateFromCSR(ctx, csrPEM, statusIf(setAsActive, iot.StatusActive, iot.StatusInactive))
}

// createCertificateFromCSR is CreateCertificateFromCSR with the new
// certificate's status.
func (s *Service) createCertificateFromCSR(ctx context.Context, csrPEM, status string) (*Certificate, error) {
	now := s.now()
	cert, err := s.issueFromCSR(csrPEM, "certificateSigningRequest", now)
	if err != nil {
		return nil, err
	}
	rec := s.newCertificate(cert, "", iot.ModeDefault, status, now)
	if err := s.update(ctx, func(tx Tx, c *change) error { return s.insertCertificate(ctx, tx, c, rec) }); err != nil {
		return nil, err
	}
	return rec, nil
}

// issueFromCSR signs a PEM CSR with the service CA, keeping its subject. field
// names the CSR in messages (InvalidRequestException).
func (s *Service) issueFromCSR(csrPEM, field string, now time.Time) (*x509.Certificate, error) {
	if s.IssuingCA == nil {
		return nil, iot.Errorf(iot.InvalidRequest, "this server has no issuing CA configured")
	}
	if strings.TrimSpace(csrPEM) == "" {
		return nil, iot.Errorf(iot.InvalidRequest, "%s is required", field)
	}
	if len(csrPEM) > 4096 {
		return nil, iot.Errorf(iot.InvalidRequest, "%s is %d characters long; the limit is 4096", field, len(csrPEM))
	}
	csr, err := pki.ParseCSRPEM(csrPEM)
	if err != nil {
		return nil, iot.Errorf(iot.InvalidRequest, "%s is not a valid CSR: %v", field, err)
	}
	if err := pki.CheckCSRKey(csr); err != nil {
		return nil, iot.Errorf(iot.InvalidRequest, "%s: %v", field, err)
	}
	return s.IssuingCA.IssueClient(csr.PublicKey, csr.Subject, now.Add(-time.Minute), awsIssuedNotAfter)
}
