package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
)

// ProvisionPlan is what a rendered provisioning template asks the registry to
// do for one device certificate.
type ProvisionPlan struct {
	Thing    *PlannedThing
	Policies []PlannedPolicy
	// CertificateStatus is the certificate's final status; "" means ACTIVE.
	CertificateStatus string
}

// PlannedThing is the thing a template declares. An existing thing of that
// name is reused as it is.
type PlannedThing struct {
	Name       string
	TypeName   string
	Attributes map[string]string
	Groups     []string
}

// PlannedPolicy is a policy to attach: an existing one by name, or, when
// Document is set, one created under Name unless it already exists.
type PlannedPolicy struct {
	Name     string
	Document string
}

// ProvisionResult is what provisioning did.
type ProvisionResult struct {
	Certificate  *Certificate
	ThingName    string
	ThingCreated bool
	Policies     []string
}

// ProvisionError says which step of provisioning failed and why.
type ProvisionError struct {
	Step string // "certificate", "thing", "thing-group", "policy", "attach"
	Err  error
}

func (e *ProvisionError) Error() string {
	return "provisioning failed at " + e.Step + ": " + e.Err.Error()
}
func (e *ProvisionError) Unwrap() error { return e.Err }

func stepErr(step string, err error) error {
	if err == nil {
		return nil
	}
	return &ProvisionError{Step: step, Err: err}
}

// ProvisionDevice registers a device certificate signed by ca and carries out
// plan, all in ONE transaction: either everything is created and attached, or
// nothing is. A certificate left PENDING_ACTIVATION by an earlier failed
// attempt is provisioned again.
func (s *Service) ProvisionDevice(ctx context.Context, cert *x509.Certificate, ca *CACertificate, plan ProvisionPlan) (*ProvisionResult, error) {
	status := plan.CertificateStatus
	switch status {
	case "":
		status = iot.StatusActive
	case iot.StatusActive, iot.StatusInactive, iot.StatusRevoked, iot.StatusPendingActivation:
	default:
		return nil, stepErr("certificate", iot.Errorf(iot.InvalidRequest, "certificate status %q is not allowed", status))
	}
	var res *ProvisionResult
	err := s.update(ctx, func(tx Tx, c *change) error {
		res = &ProvisionResult{}
		id := pki.CertificateID(cert.Raw)
		rec, err := tx.Certificate(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			rec = s.newCertificate(cert, ca.ID, ca.Mode, iot.StatusPendingActivation, c.now)
			if err := tx.InsertCertificate(ctx, rec); err != nil {
				return stepErr("certificate", err)
			}
		case err != nil:
			return err
		case rec.Status != iot.StatusPendingActivation:
			return stepErr("certificate", iot.Errorf(iot.ResourceAlreadyExists, "the certificate %s is already registered (%s)", id, rec.Status))
		}
		arn := s.Account.CertificateARN(id)
		if t := plan.Thing; t != nil {
			created, err := s.provisionThing(ctx, tx, c, t)
			if err != nil {
				return err
			}
			res.ThingName, res.ThingCreated = t.Name, created
			if err := s.attachThingPrincipal(ctx, tx, c, t.Name, arn, iot.NonExclusiveThing); err != nil {
				return stepErr("attach", fmt.Errorf("attach the certificate to the thing %s: %w", t.Name, err))
			}
		}
		for _, p := range plan.Policies {
			if p.Document != "" {
				if _, err := tx.Policy(ctx, p.Name); errors.Is(err, ErrNotFound) {
					if err := checkPolicyDocument(p.Document); err != nil {
						return stepErr("policy", err)
					}
					if _, err := s.createPolicy(ctx, tx, c, p.Name, p.Document); err != nil {
						return stepErr("policy", err)
					}
				} else if err != nil {
					return err
				}
			} else if _, err := tx.Policy(ctx, p.Name); err != nil {
				return stepErr("policy", notFound(err, "policy", p.Name))
			}
			if err := s.attachPolicy(ctx, tx, c, p.Name, arn); err != nil {
				return stepErr("attach", fmt.Errorf("attach the policy %s: %w", p.Name, err))
			}
			res.Policies = append(res.Policies, p.Name)
		}
		rec.Status = status
		rec.UpdatedAt = c.now
		if err := tx.UpdateCertificate(ctx, rec); err != nil {
			return stepErr("certificate", err)
		}
		c.emit(CertificateChanged, id)
		res.Certificate = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// provisionThing creates the planned thing, or reuses one of that name, and
// puts it in the planned groups (which must exist: templates create none).
func (s *Service) provisionThing(ctx context.Context, tx Tx, c *change, t *PlannedThing) (created bool, err error) {
	in := CreateThingInput{Name: t.Name, TypeName: t.TypeName, Attributes: t.Attributes}
	if err := s.checkThingInput(in); err != nil {
		return false, stepErr("thing", err)
	}
	if _, err := tx.Thing(ctx, t.Name); errors.Is(err, ErrNotFound) {
		if _, err := s.createThing(ctx, tx, c, in); err != nil {
			return false, stepErr("thing", err)
		}
		created = true
	} else if err != nil {
		return false, err
	}
	for _, g := range t.Groups {
		if err := s.addThingToGroup(ctx, tx, c, g, t.Name); err != nil {
			return false, stepErr("thing-group", err)
		}
	}
	return created, nil
}

// RegisterPending registers cert as PENDING_ACTIVATION under ca, as AWS does
// on just-in-time registration and when provisioning fails. It reports whether
// the certificate was new; an already registered certificate is left alone.
func (s *Service) RegisterPending(ctx context.Context, cert *x509.Certificate, ca *CACertificate) (*Certificate, bool, error) {
	var rec *Certificate
	created := false
	err := s.update(ctx, func(tx Tx, c *change) error {
		id := pki.CertificateID(cert.Raw)
		existing, err := tx.Certificate(ctx, id)
		if err == nil {
			rec = existing
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		rec = s.newCertificate(cert, ca.ID, ca.Mode, iot.StatusPendingActivation, c.now)
		created = true
		c.emit(CertificateChanged, id)
		return tx.InsertCertificate(ctx, rec)
	})
	return rec, created, err
}

// CAsForCertificate returns the registered CAs (any status) that signed cert, by signature.
func (s *Service) CAsForCertificate(ctx context.Context, cert *x509.Certificate) ([]CACertificate, error) {
	var out []CACertificate
	err := s.view(ctx, func(tx Tx) error {
		var err error
		out, err = s.IssuersOf(ctx, tx, cert)
		return err
	})
	return out, err
}
