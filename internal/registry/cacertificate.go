package registry

import (
	"context"
	"crypto/x509"
	"errors"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/template"
)

// MaxCAsWithSameSubject is AWS's limit on CA certificates sharing a subject.
const MaxCAsWithSameSubject = 10

// RegisterCAInput is RegisterCACertificate's input.
type RegisterCAInput struct {
	CACertificatePEM           string
	VerificationCertificatePEM string
	SetAsActive                bool
	AllowAutoRegistration      bool
	Registration               *RegistrationConfig
	Tags                       []iot.Tag
	Mode                       string // "" means DEFAULT
}

// RegisterCACertificate registers a CA after checking proof of possession: in
// DEFAULT mode the verification certificate's CN must be the account's
// registration code and the CA must have signed it.
func (s *Service) RegisterCACertificate(ctx context.Context, in RegisterCAInput) (*CACertificate, error) {
	ca, err := parseCertificate(in.CACertificatePEM, "caCertificate")
	if err != nil {
		return nil, err
	}
	if err := pki.CheckCA(ca); err != nil {
		return nil, iot.Errorf(iot.CertificateValidation, "the CA certificate is not a valid CA certificate: %v", err)
	}
	mode := in.Mode
	if mode == "" {
		mode = iot.ModeDefault
	}
	now := s.now()
	if now.Before(ca.NotBefore) || now.After(ca.NotAfter) {
		return nil, iot.Errorf(iot.CertificateValidation, "the CA certificate is not valid now: it is valid from %s to %s",
			ca.NotBefore.UTC().Format(timeLayout), ca.NotAfter.UTC().Format(timeLayout))
	}
	var verification *x509.Certificate
	switch mode {
	case iot.ModeDefault:
		if in.VerificationCertificatePEM == "" {
			return nil, iot.Errorf(iot.InvalidRequest, "verificationCertificate is required when certificateMode is DEFAULT")
		}
		if verification, err = parseCertificate(in.VerificationCertificatePEM, "verificationCertificate"); err != nil {
			return nil, err
		}
	case iot.ModeSNIOnly:
		if in.VerificationCertificatePEM != "" {
			return nil, iot.Errorf(iot.InvalidRequest, "verificationCertificate must not be given when certificateMode is SNI_ONLY")
		}
	default:
		return nil, iot.Errorf(iot.InvalidRequest, "certificateMode must be DEFAULT or SNI_ONLY, got %q", mode)
	}
	tmpl, err := checkRegistrationConfig(in.Registration)
	if err != nil {
		return nil, err
	}
	if err := iot.CheckTags(in.Tags); err != nil {
		return nil, err
	}
	if verification != nil {
		code, err := s.RegistrationCode(ctx)
		if err != nil {
			return nil, err
		}
		if err := pki.CheckVerificationCertificate(ca, verification, code); err != nil {
			if errors.Is(err, pki.ErrRegistrationCodeMismatch) {
				return nil, &iot.Error{Code: iot.RegistrationCodeValidation,
					Message: "the verification certificate's common name does not match this account's registration code", Err: err}
			}
			return nil, &iot.Error{Code: iot.CertificateValidation,
				Message: "the verification certificate is not signed by the CA certificate", Err: err}
		}
	}
	id := pki.CertificateID(ca.Raw)
	rec := &CACertificate{
		ID:               id,
		PEM:              pki.EncodeCertificatePEM(ca),
		SubjectKey:       pki.SubjectKey(ca),
		Status:           statusIf(in.SetAsActive, iot.StatusActive, iot.StatusInactive),
		AutoRegistration: statusIf(in.AllowAutoRegistration, iot.AutoRegistrationEnable, iot.AutoRegistrationDisable),
		Mode:             mode,
		OwnedBy:          s.Account.ID,
		CreatedAt:        now,
		UpdatedAt:        now,
		CustomerVersion:  1,
		GenerationID:     newID(),
		NotBefore:        ca.NotBefore.UTC(),
		NotAfter:         ca.NotAfter.UTC(),
	}
	if in.Registration != nil {
		rec.Registration = *in.Registration
	}
	err = s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.CACertificate(ctx, id); err == nil {
			return iot.AlreadyExists("CA certificate", id, id, s.Account.CACertificateARN(id))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		same, err := tx.CACertificatesBySubject(ctx, rec.SubjectKey)
		if err != nil {
			return err
		}
		if len(same) >= MaxCAsWithSameSubject {
			return iot.Errorf(iot.LimitExceeded, "at most %d CA certificates may share the subject %q", MaxCAsWithSameSubject, ca.Subject.String())
		}
		if err := s.checkTemplateReference(ctx, tx, in.Registration); err != nil {
			return err
		}
		if err := tx.InsertCACertificate(ctx, rec); err != nil {
			return err
		}
		c.emit(CACertificateChanged, id)
		return tx.PutTags(ctx, s.Account.CACertificateARN(id), in.Tags)
	})
	if err != nil {
		return nil, err
	}
	s.warnRegistrationConfig(ctx, id, tmpl)
	return rec, nil
}

// UpdateCAInput is UpdateCACertificate's input. Empty strings leave a field unchanged.
type UpdateCAInput struct {
	ID                     string
	NewStatus              string
	NewAutoRegistration    string
	Registration           *RegistrationConfig
	RemoveAutoRegistration bool
}

// UpdateCACertificate changes a CA's status, auto-registration status or
// provisioning configuration.
func (s *Service) UpdateCACertificate(ctx context.Context, in UpdateCAInput) error {
	if err := iot.CertificateIDRule.Check(in.ID); err != nil {
		return err
	}
	switch in.NewStatus {
	case "", iot.StatusActive, iot.StatusInactive:
	default:
		return iot.Errorf(iot.InvalidRequest, "newStatus must be ACTIVE or INACTIVE, got %q", in.NewStatus)
	}
	switch in.NewAutoRegistration {
	case "", iot.AutoRegistrationEnable, iot.AutoRegistrationDisable:
	default:
		return iot.Errorf(iot.InvalidRequest, "newAutoRegistrationStatus must be ENABLE or DISABLE, got %q", in.NewAutoRegistration)
	}
	if in.Registration != nil && in.RemoveAutoRegistration {
		return iot.Errorf(iot.InvalidRequest, "registrationConfig and removeAutoRegistration cannot be used together")
	}
	tmpl, err := checkRegistrationConfig(in.Registration)
	if err != nil {
		return err
	}
	id := normalizeID(in.ID)
	err = s.update(ctx, func(tx Tx, c *change) error {
		rec, err := tx.CACertificate(ctx, id)
		if err != nil {
			return notFound(err, "CA certificate", id)
		}
		if in.NewStatus != "" {
			rec.Status = in.NewStatus
		}
		if in.NewAutoRegistration != "" {
			rec.AutoRegistration = in.NewAutoRegistration
		}
		if in.Registration != nil {
			if err := s.checkTemplateReference(ctx, tx, in.Registration); err != nil {
				return err
			}
			rec.Registration = *in.Registration
		}
		if in.RemoveAutoRegistration {
			rec.Registration = RegistrationConfig{}
		}
		rec.UpdatedAt = c.now
		rec.CustomerVersion++
		rec.GenerationID = newID()
		c.emit(CACertificateChanged, id)
		return tx.UpdateCACertificate(ctx, rec)
	})
	if err == nil {
		s.warnRegistrationConfig(ctx, id, tmpl)
	}
	return err
}

// warnRegistrationConfig warns about the policies of a CA's inline JITP
// template (tmpl, nil when there is none) that name another region or
// account than the server's (warnForeignARNs).
func (s *Service) warnRegistrationConfig(ctx context.Context, caID string, tmpl *template.Template) {
	if tmpl != nil {
		s.warnForeignARNs(ctx, "CA certificate registrationConfig", caID, templatePolicies(tmpl))
	}
}

// CACertificate describes a registered CA.
func (s *Service) CACertificate(ctx context.Context, id string) (*CACertificate, error) {
	if err := iot.CertificateIDRule.Check(id); err != nil {
		return nil, err
	}
	id = normalizeID(id)
	var rec *CACertificate
	err := s.view(ctx, func(tx Tx) error {
		var err error
		rec, err = tx.CACertificate(ctx, id)
		return notFound(err, "CA certificate", id)
	})
	return rec, err
}

// ListCACertificates lists CA certificates by creation date.
func (s *Service) ListCACertificates(ctx context.Context, f CACertificateFilter, pr PageRequest) ([]CACertificate, string, error) {
	if f.TemplateName != "" {
		if err := iot.TemplateNameRule.Check(f.TemplateName); err != nil {
			return nil, "", err
		}
	}
	return listPage(ctx, s, pr, func(c CACertificate) string { return CertificateCursor(c.CreatedAt, c.ID) }, func(tx Tx, p Page) ([]CACertificate, error) {
		return tx.ListCACertificates(ctx, f, p)
	})
}

// DeleteCACertificate deletes an INACTIVE CA certificate. Device certificates it
// signed stay registered.
func (s *Service) DeleteCACertificate(ctx context.Context, id string) error {
	if err := iot.CertificateIDRule.Check(id); err != nil {
		return err
	}
	id = normalizeID(id)
	return s.update(ctx, func(tx Tx, c *change) error {
		rec, err := tx.CACertificate(ctx, id)
		if err != nil {
			return notFound(err, "CA certificate", id)
		}
		// UNCERTAIN (reference 11.10): AWS lists CertificateStateException here; we read it as "deactivate first".
		if rec.Status == iot.StatusActive {
			return iot.Errorf(iot.CertificateState, "the CA certificate %s is ACTIVE: set it INACTIVE before deleting it", id)
		}
		if err := tx.DeleteCACertificate(ctx, id); err != nil {
			return err
		}
		c.emit(CACertificateChanged, id)
		return tx.DeleteAllTags(ctx, s.Account.CACertificateARN(id))
	})
}

// checkRegistrationConfig validates what can be checked of a JITP configuration
// before its transaction: names, the role ARN, and an inline template, which
// must parse and suit JITP (checkTemplateBody); it returns that template, or
// nil. A templateName is checked in the transaction, by
// checkTemplateReference.
func checkRegistrationConfig(rc *RegistrationConfig) (*template.Template, error) {
	if rc == nil {
		return nil, nil
	}
	if rc.TemplateName != "" {
		if err := iot.TemplateNameRule.Check(rc.TemplateName); err != nil {
			return nil, err
		}
		if rc.TemplateBody != "" {
			return nil, iot.Errorf(iot.InvalidRequest, "registrationConfig takes either templateBody or templateName, not both")
		}
	}
	if rc.RoleARN != "" {
		if err := iot.RoleARNRule.Check(rc.RoleARN); err != nil {
			return nil, err
		}
	}
	if rc.TemplateBody == "" {
		return nil, nil
	}
	// A CA's inline template is always used for JITP.
	return checkTemplateBody(rc.TemplateBody, true)
}

func statusIf(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
