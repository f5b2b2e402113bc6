package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/template"
)

// This file is the registry's part of fleet provisioning, the device
// provisioning MQTT API (reference 6.1): certificates issued
// PENDING_ACTIVATION, a template rendered for one of them (PlanFleet), the
// one transaction that provisions it (ProvisionFleetDevice), and the
// clean-up of certificates never claimed (DeleteUnclaimedCertificates).

// CreatePendingKeysAndCertificate is the MQTT API's CreateKeysAndCertificate:
// CreateKeysAndCertificate's key pair and certificate, the certificate
// PENDING_ACTIVATION until RegisterThing gives it the template's status
// ("Certificates created over MQTT ... start PENDING_ACTIVATION", reference
// 6.1). Without an issuing CA it fails with NotConfiguredException.
func (s *Service) CreatePendingKeysAndCertificate(ctx context.Context) (*IssuedCertificate, error) {
	if s.IssuingCA == nil {
		return nil, iot.Errorf(iot.NotConfigured, "this server has no issuing CA configured")
	}
	return s.createKeysAndCertificate(ctx, iot.StatusPendingActivation)
}

// CreatePendingCertificateFromCSR is the MQTT API's CreateCertificateFromCsr:
// the service CA signs the CSR (RSA of 2048 bits or more, or EC P-256,
// P-384 or P-521; its signature checked) and the certificate is
// PENDING_ACTIVATION. A bad CSR is an InvalidRequestException saying what
// is wrong with it; without an issuing CA it fails with
// NotConfiguredException.
func (s *Service) CreatePendingCertificateFromCSR(ctx context.Context, csrPEM string) (*Certificate, error) {
	if s.IssuingCA == nil {
		return nil, iot.Errorf(iot.NotConfigured, "this server has no issuing CA configured")
	}
	return s.createCertificateFromCSR(ctx, csrPEM, iot.StatusPendingActivation)
}

// checkParameters applies the model's limits on RegisterThing's parameters.
func checkParameters(params map[string]string) error {
	for k, v := range params {
		if n := utf8.RuneCountInString(k); n > maxParameterKey {
			return iot.Errorf(iot.InvalidRequest, "a parameter name is %d characters long; the limit is %d", n, maxParameterKey)
		}
		if n := utf8.RuneCountInString(v); n > maxParameterValue {
			return iot.Errorf(iot.InvalidRequest, "the value of the parameter %q is %d characters long; the limit is %d", k, n, maxParameterValue)
		}
	}
	return nil
}

// PlanFleet is the plan fleet provisioning's RegisterThing carries out: the
// body of a FLEET_PROVISIONING template rendered, through Plan as every
// other provisioning path is, with the device's parameters and
// AWS::IoT::Certificate::Id set to certificateID, the certificate the
// ownership token names (reference 5.2). The device cannot choose that
// parameter: its own value is replaced.
//
// The template's certificate resource must name the certificate by
// CertificateId, the only form fleet provisioning allows (reference 5.3),
// and must come to certificateID: a template without one, or naming
// another certificate, would leave the device's certificate unusable.
//
// A failure is a *ProvisionError whose Step is "template" (the body) or
// "render" (these parameters), and whose Err, a *template.Error or an
// *iot.Error, has a message safe for the device.
func PlanFleet(body, certificateID string, params map[string]string) (ProvisionPlan, error) {
	t, err := template.Parse(body)
	if err != nil {
		return ProvisionPlan{}, &ProvisionError{Step: "template", Err: err}
	}
	if err := checkParameters(params); err != nil {
		return ProvisionPlan{}, &ProvisionError{Step: "render", Err: err}
	}
	params = maps.Clone(params)
	if params == nil {
		params = map[string]string{}
	}
	params[template.ParamID] = certificateID
	plan, err := Plan(t, params, nil)
	if err != nil {
		return ProvisionPlan{}, &ProvisionError{Step: "render", Err: err}
	}
	c := plan.Certificate
	switch {
	case c == nil:
		return ProvisionPlan{}, &ProvisionError{Step: "template", Err: &template.Error{Path: "Resources",
			Message: fmt.Sprintf(`a fleet-provisioning template needs an AWS::IoT::Certificate resource whose CertificateId is {"Ref": %q}`, template.ParamID)}}
	case c.ID == "":
		return ProvisionPlan{}, &ProvisionError{Step: "template", Resource: c.LogicalID, Err: &template.Error{Path: "Resources." + c.LogicalID + ".Properties",
			Message: fmt.Sprintf(`fleet provisioning allows only the CertificateId form of a certificate resource, {"Ref": %q}`, template.ParamID)}}
	case normalizeID(c.ID) != certificateID:
		return ProvisionPlan{}, &ProvisionError{Step: "template", Resource: c.LogicalID, Err: &template.Error{Path: "Resources." + c.LogicalID + ".Properties.CertificateId",
			Message: fmt.Sprintf(`it names another certificate than the ownership token's: it must be {"Ref": %q}`, template.ParamID)}}
	}
	return plan, nil
}

// ProvisionFleetDevice carries out a fleet-provisioning plan (PlanFleet)
// for the certificate the ownership token names, in ONE transaction: the
// plan's thing and policies are created or reused as JITP does them, the
// certificate is attached to them and takes the template's Status (ACTIVE
// by default, or INACTIVE). Either everything is done or nothing is.
//
// The certificate must exist and be PENDING_ACTIVATION, as the MQTT API
// issued it: a certificate already provisioned has used its token (a
// CertificateStateException at the "certificate" step), and one deleted
// since (DeleteUnclaimedCertificates) is a ResourceNotFoundException there.
// Failures are *ProvisionError values, as ProvisionDevice's.
func (s *Service) ProvisionFleetDevice(ctx context.Context, certificateID string, plan ProvisionPlan) (*ProvisionResult, error) {
	id := normalizeID(certificateID)
	status := plan.status()
	switch status {
	case "":
		status = iot.StatusActive
	case iot.StatusActive, iot.StatusInactive:
	default:
		return nil, stepErr("certificate", iot.Errorf(iot.InvalidRequest, "certificate status %q is not allowed; it must be ACTIVE or INACTIVE", status))
	}
	var res *ProvisionResult
	err := s.update(ctx, func(tx Tx, c *change) error {
		res = &ProvisionResult{}
		rec, err := tx.Certificate(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			return stepErr("certificate", iot.NotFound("certificate", id))
		case err != nil:
			return err
		case rec.Status != iot.StatusPendingActivation:
			return stepErr("certificate", iot.Errorf(iot.CertificateState, "the certificate %s is %s: it was provisioned already", id, rec.Status))
		}
		if err := s.carryOut(ctx, tx, c, rec, plan, res); err != nil {
			return err
		}
		rec.Status = status
		rec.UpdatedAt = c.now
		rec.CustomerVersion++
		rec.GenerationID = newID()
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
	res.warn(s.Account)
	return res, nil
}

// unclaimedPage is how many certificates DeleteUnclaimedCertificates reads
// per transaction.
const unclaimedPage = 500

// DeleteUnclaimedCertificates deletes the certificates that fleet
// provisioning issued before createdBefore and that nobody claimed: AWS
// deletes a certificate created over MQTT when its ownership token expires
// (1 hour) if it is not activated and not attached to a policy or a thing
// (reference 6.1). A certificate qualifies when it is still
// PENDING_ACTIVATION, signed by the service CA (IssuingCA), and has no
// thing and no policy; each is deleted in its own transaction, which checks
// all that again. It returns the ids deleted.
//
// It reads every certificate created before createdBefore, a page at a
// time, oldest first: run it every few minutes, not per request.
func (s *Service) DeleteUnclaimedCertificates(ctx context.Context, createdBefore time.Time) ([]string, error) {
	if s.IssuingCA == nil {
		return nil, nil
	}
	var candidates []string
	after := ""
	for done := false; !done; {
		var page []Certificate
		err := s.view(ctx, func(tx Tx) error {
			var err error
			page, err = tx.ListCertificates(ctx, CertificateFilter{Ascending: true}, Page{After: after, Limit: unclaimedPage})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("delete unclaimed certificates: %w", err)
		}
		done = len(page) < unclaimedPage
		for _, c := range page {
			if !c.CreatedAt.Before(createdBefore) {
				done = true
				break
			}
			if s.unclaimed(&c) || c.ProvisioningClaim != "" { // a claim lives 5 minutes
				candidates = append(candidates, c.ID)
			}
		}
		if len(page) > 0 {
			last := page[len(page)-1]
			after = CertificateCursor(last.CreatedAt, last.ID)
		}
	}
	var deleted []string
	for _, id := range candidates {
		gone := false
		err := s.update(ctx, func(tx Tx, c *change) error {
			gone = false
			rec, err := tx.Certificate(ctx, id)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil || !s.unclaimed(rec) && rec.ProvisioningClaim == "" || !rec.CreatedAt.Before(createdBefore) {
				return err
			}
			arn := s.Account.CertificateARN(id)
			if things, err := tx.ListPrincipalThings(ctx, arn, Page{Limit: 1}); err != nil || len(things) > 0 {
				return err
			}
			if policies, err := tx.ListTargetPolicies(ctx, arn, Page{Limit: 1}); err != nil || len(policies) > 0 {
				return err
			}
			if err := tx.DeleteCertificate(ctx, id); err != nil {
				return err
			}
			c.emit(CertificateChanged, id)
			gone = true
			return tx.DeleteAllTags(ctx, arn)
		})
		if err != nil {
			return deleted, fmt.Errorf("delete unclaimed certificate %s: %w", id, err)
		}
		if gone {
			deleted = append(deleted, id)
		}
	}
	return deleted, nil
}

// unclaimed reports whether c is a certificate fleet provisioning issued
// and nobody provisioned: PENDING_ACTIVATION, signed by the service CA, and
// under no registered CA but the service CA itself. JITR's pending
// certificates are under their device CA.
func (s *Service) unclaimed(c *Certificate) bool {
	if c.Status != iot.StatusPendingActivation || s.IssuingCA == nil ||
		c.CAID != "" && c.CAID != pki.CertificateID(s.IssuingCA.Certificate.Raw) {
		return false
	}
	cert, err := pki.ParseCertificatePEM(c.PEM)
	return err == nil && pki.SignedBy(cert, s.IssuingCA.Certificate)
}
