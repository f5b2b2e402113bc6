package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/template"
)

// ProvisionResult is what provisioning did, or, from PreviewDevice, what
// it would do.
type ProvisionResult struct {
	Certificate *Certificate
	// CertificateCreated is false when the certificate was registered
	// already (PENDING_ACTIVATION, from an earlier attempt).
	CertificateCreated bool
	ThingName          string
	ThingCreated       bool // false: an existing thing was reused
	Policies           []string
	// PoliciesCreated are those of Policies created from the template's
	// document; the others existed and were reused.
	PoliciesCreated []string
	// Warnings say why the device may still be refused once provisioned:
	// its policies name another region or account than the server's
	// (ForeignPolicyARNs).
	Warnings []string

	attached []NamedPolicy // the policies attached, with their documents
}

// warn fills in Warnings, after the transaction: parsing the documents
// need not hold the store's writer.
func (r *ProvisionResult) warn(acct iot.Account) {
	r.Warnings = ForeignPolicyARNs(acct, r.attached)
}

// ProvisionError says which step of provisioning failed and why.
type ProvisionError struct {
	Step string // "certificate", "thing", "thing-group", "policy", "attach"
	// Resource is the logical id of the template resource concerned, or "".
	Resource string
	Err      error
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

// inResource records the template resource a ProvisionError concerns.
func inResource(err error, logicalID string) error {
	var pe *ProvisionError
	if errors.As(err, &pe) && pe.Resource == "" {
		pe.Resource = logicalID
	}
	return err
}

// ProvisionDevice registers a device certificate signed by ca and carries out
// plan, all in ONE transaction: either everything is created and attached, or
// nothing is. A certificate left PENDING_ACTIVATION by an earlier failed
// attempt is provisioned again.
func (s *Service) ProvisionDevice(ctx context.Context, cert *x509.Certificate, ca *CACertificate, plan ProvisionPlan) (*ProvisionResult, error) {
	return s.ProvisionAndRecord(ctx, cert, ca, plan, nil)
}

// ProvisionAndRecord is ProvisionDevice that also stores the attempt that
// record (when not nil) makes of the result, in the same transaction: the
// device and the record of its provisioning commit together, one write
// instead of two on the registry's single writer (SQLite), which is what
// bounds how many devices a node onboards per second.
func (s *Service) ProvisionAndRecord(ctx context.Context, cert *x509.Certificate, ca *CACertificate, plan ProvisionPlan,
	record func(*ProvisionResult) ProvisioningAttempt) (*ProvisionResult, error) {
	var res *ProvisionResult
	err := s.update(ctx, func(tx Tx, c *change) error {
		var err error
		if res, err = s.provisionDevice(ctx, tx, c, cert, ca, plan); err != nil {
			return err
		}
		if record == nil {
			return nil
		}
		res.warn(s.Account)
		return s.insertAttempt(ctx, tx, c, record(res))
	})
	if err != nil {
		return nil, err
	}
	res.warn(s.Account)
	return res, nil
}

// PreviewDevice is the dry run of ProvisionDevice: it runs the very same
// transaction against the current registry and rolls it back, so it
// answers what ProvisionDevice would answer now (what it would create, what
// it would reuse, or why it would fail) and changes nothing: no write, no
// event, no cache invalidated.
func (s *Service) PreviewDevice(ctx context.Context, cert *x509.Certificate, ca *CACertificate, plan ProvisionPlan) (*ProvisionResult, error) {
	var res *ProvisionResult
	err := s.rolledBack(ctx, func(tx Tx, c *change) error {
		var err error
		res, err = s.provisionDevice(ctx, tx, c, cert, ca, plan)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.warn(s.Account)
	return res, nil
}

// errRolledBack ends a dry run's transaction.
var errRolledBack = errors.New("registry: dry run: rolled back")

// rolledBack runs fn in a store transaction that is always rolled back: a
// dry run of what update would do with the same fn. Its events are
// dropped, and nothing else learns of it.
func (s *Service) rolledBack(ctx context.Context, fn func(tx Tx, c *change) error) error {
	err := s.Store.Update(ctx, func(tx Tx) error {
		if err := fn(tx, &change{now: s.now()}); err != nil {
			return err
		}
		return errRolledBack
	})
	if errors.Is(err, errRolledBack) {
		return nil
	}
	return err
}

// provisionDevice is ProvisionDevice's transaction, which PreviewDevice
// rolls back.
func (s *Service) provisionDevice(ctx context.Context, tx Tx, c *change, cert *x509.Certificate, ca *CACertificate, plan ProvisionPlan) (*ProvisionResult, error) {
	status := plan.status()
	switch status {
	case "":
		status = iot.StatusActive
	case iot.StatusActive, iot.StatusInactive, iot.StatusRevoked, iot.StatusPendingActivation:
	default:
		return nil, stepErr("certificate", iot.Errorf(iot.InvalidRequest, "certificate status %q is not allowed", status))
	}
	res := &ProvisionResult{}
	id := pki.CertificateID(cert.Raw)
	rec, err := tx.Certificate(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		// Inserted with the status it ends with: if anything below fails,
		// the transaction rolls back whole.
		rec = s.newCertificate(cert, ca.ID, ca.Mode, status, c.now)
		if err := tx.InsertCertificate(ctx, rec); err != nil {
			return nil, stepErr("certificate", err)
		}
		res.CertificateCreated = true
	case err != nil:
		return nil, err
	case rec.Status != iot.StatusPendingActivation:
		return nil, stepErr("certificate", iot.Errorf(iot.ResourceAlreadyExists, "the certificate %s is already registered (%s)", id, rec.Status))
	}
	if err := s.carryOut(ctx, tx, c, rec, plan, res); err != nil {
		return nil, err
	}
	if !res.CertificateCreated {
		rec.Status = status
		rec.UpdatedAt = c.now
		if err := tx.UpdateCertificate(ctx, rec); err != nil {
			return nil, stepErr("certificate", err)
		}
	}
	c.emit(CertificateChanged, id)
	res.Certificate = rec
	return res, nil
}

// carryOut creates (or reuses) the plan's thing and policies inside tx and,
// when cert is not nil, attaches them to it. It is the part of provisioning
// that JITP (ProvisionDevice) and RegisterThing share; each first settles
// the certificate its own way (res.CertificateCreated says it inserted it).
//
// It does not ask the store again what the transaction itself has just
// read or written: that the thing and the policies exist, that a
// certificate it inserted exists and has nothing attached but what it
// attaches. Every statement is time on SQLite's single writer, which bounds
// the devices provisioned per second (docs/benchmarks.md).
func (s *Service) carryOut(ctx context.Context, tx Tx, c *change, cert *Certificate, plan ProvisionPlan, res *ProvisionResult) error {
	var arn string
	if cert != nil {
		arn = s.Account.CertificateARN(cert.ID)
	}
	newCert := cert != nil && res.CertificateCreated
	if t := plan.Thing; t != nil {
		created, err := s.provisionThing(ctx, tx, c, t)
		if err != nil {
			return inResource(err, t.LogicalID)
		}
		res.ThingName, res.ThingCreated = t.Name, created
		if cert != nil {
			var links []ThingPrincipal // a new certificate has none
			if !newCert {
				links, err = tx.ListPrincipalThings(ctx, arn, Page{Limit: 2})
			}
			if err == nil {
				err = s.linkThingPrincipal(ctx, tx, c, t.Name, arn, iot.NonExclusiveThing, links)
			}
			if err != nil {
				return inResource(stepErr("attach", fmt.Errorf("attach the certificate to the thing %s: %w", t.Name, err)), t.LogicalID)
			}
		}
	}
	var attached []string // to a new certificate: what this loop attached
	for _, p := range plan.Policies {
		doc, created, err := s.provisionPolicy(ctx, tx, c, p)
		if err != nil {
			return inResource(err, p.LogicalID)
		}
		if cert != nil {
			if newCert {
				err = s.linkPolicy(ctx, tx, c, p.Name, arn, MaxPoliciesPerTarget, attached)
				if !slices.Contains(attached, p.Name) {
					attached = append(attached, p.Name)
				}
			} else {
				err = s.attachPolicy(ctx, tx, c, p.Name, arn)
			}
			if err != nil {
				return inResource(stepErr("attach", fmt.Errorf("attach the policy %s: %w", p.Name, err)), p.LogicalID)
			}
		}
		res.Policies = append(res.Policies, p.Name)
		if created {
			res.PoliciesCreated = append(res.PoliciesCreated, p.Name)
		}
		res.attached = append(res.attached, NamedPolicy{Name: p.Name, Document: doc})
	}
	return nil
}

// provisionPolicy creates a planned policy from its document unless a policy
// of that name exists, or checks that a policy named alone exists. It
// returns the document in force: the new one, or the existing policy's
// default version.
func (s *Service) provisionPolicy(ctx context.Context, tx Tx, c *change, p PlannedPolicy) (doc string, created bool, err error) {
	existing, err := tx.DefaultPolicyDocument(ctx, p.Name)
	switch {
	case err == nil:
		return existing, false, nil
	case !errors.Is(err, ErrNotFound):
		return "", false, err
	case p.Document == "":
		return "", false, stepErr("policy", notFound(err, "policy", p.Name))
	}
	if err := checkPolicyDocument(p.Document); err != nil {
		return "", false, stepErr("policy", err)
	}
	if _, err := s.createPolicy(ctx, tx, c, p.Name, p.Document); err != nil {
		return "", false, stepErr("policy", err)
	}
	return p.Document, true, nil
}

// provisionThing creates the planned thing, or reuses one of that name, and
// puts it in the planned groups (which must exist: templates create none).
func (s *Service) provisionThing(ctx context.Context, tx Tx, c *change, t *PlannedThing) (created bool, err error) {
	in := CreateThingInput{Name: t.Name, TypeName: t.TypeName, Attributes: t.Attributes, BillingGroupName: t.BillingGroup}
	if err := s.checkThingInput(in); err != nil {
		return false, stepErr("thing", err)
	}
	existing, err := tx.Thing(ctx, t.Name)
	switch {
	case errors.Is(err, ErrNotFound):
		if _, err := s.insertThing(ctx, tx, c, in); err != nil {
			return false, stepErr("thing", err)
		}
		// The new thing is in no group yet.
		var groups []string
		for _, g := range t.Groups {
			if slices.Contains(groups, g) {
				continue
			}
			if _, err := tx.ThingGroup(ctx, g); err != nil {
				return false, stepErr("thing-group", notFound(err, "thing group", g))
			}
			if err := s.addToGroup(ctx, tx, c, g, t.Name, len(groups)); err != nil {
				return false, stepErr("thing-group", err)
			}
			groups = append(groups, g)
		}
		return true, nil
	case err != nil:
		return false, err
	}
	if err := s.overrideThing(ctx, tx, c, existing, t); err != nil {
		return false, err
	}
	return false, nil
}

// Override settings, as the template package spells them.
const (
	overrideDoNothing = "DO_NOTHING"
	overrideReplace   = "REPLACE"
	overrideMerge     = "MERGE"
	overrideFail      = "FAIL"
)

// overrideThing applies a template to a thing that exists already, property
// by property, as its OverrideSettings say (reference 5.4). A property without
// a setting is left alone (DO_NOTHING; AWS documents no default). FAIL fails
// when the template's value differs from the thing's.
func (s *Service) overrideThing(ctx context.Context, tx Tx, c *change, th *Thing, t *PlannedThing) error {
	conflict := func(prop string) error {
		return stepErr("thing", iot.Errorf(iot.ResourceRegistrationFailure,
			"the thing %s exists with another %s, and the template's OverrideSettings.%s is FAIL", th.Name, prop, prop))
	}
	changed := false
	if t.AttributesSet {
		switch t.Overrides["AttributePayload"] {
		case overrideReplace:
			th.Attributes, changed = maps.Clone(t.Attributes), true
		case overrideMerge:
			th.Attributes, changed = applyAttributes(th.Attributes, t.Attributes, true), true
		case overrideFail:
			if !maps.Equal(th.Attributes, t.Attributes) {
				return conflict("AttributePayload")
			}
		}
		if th.Attributes == nil {
			th.Attributes = map[string]string{}
		}
	}
	if t.TypeName != th.TypeName && t.TypeName != "" {
		switch t.Overrides["ThingTypeName"] {
		case overrideReplace:
			if err := usableThingType(ctx, tx, t.TypeName); err != nil {
				return stepErr("thing", err)
			}
			th.TypeName, changed = t.TypeName, true
		case overrideFail:
			return conflict("ThingTypeName")
		}
	}
	if changed {
		if len(th.Attributes) > MaxThingAttributes {
			return stepErr("thing", iot.Errorf(iot.InvalidRequest, "a thing can have at most %d attributes, got %d", MaxThingAttributes, len(th.Attributes)))
		}
		th.Version++
		c.emit(ThingChanged, th.Name)
		if err := tx.UpdateThing(ctx, th); err != nil {
			return err
		}
	}
	setting := t.Overrides["ThingGroups"]
	if setting == "" || setting == overrideDoNothing || len(t.Groups) == 0 && setting == overrideMerge {
		return nil
	}
	current, err := tx.ListGroupsOfThing(ctx, th.Name, Page{})
	if err != nil {
		return err
	}
	want := slices.Clone(t.Groups)
	slices.Sort(want)
	want = slices.Compact(want)
	switch setting {
	case overrideFail:
		if !slices.Equal(current, want) {
			return conflict("ThingGroups")
		}
	case overrideReplace:
		for _, g := range current {
			if !slices.Contains(want, g) {
				c.emit(ThingChanged, th.Name)
				if err := tx.RemoveThingFromGroup(ctx, g, th.Name); err != nil {
					return err
				}
			}
		}
		fallthrough
	case overrideMerge:
		for _, g := range want {
			if err := s.addThingToGroup(ctx, tx, c, g, th.Name); err != nil {
				return stepErr("thing-group", err)
			}
		}
	}
	return nil
}

// RegisterPending registers cert as PENDING_ACTIVATION under ca, as AWS does
// on just-in-time registration and when provisioning fails. It reports whether
// the certificate was new; an already registered certificate is left alone.
func (s *Service) RegisterPending(ctx context.Context, cert *x509.Certificate, ca *CACertificate) (*Certificate, bool, error) {
	var rec *Certificate
	created := false
	err := s.update(ctx, func(tx Tx, c *change) error {
		// A certificate left alone changes nothing, and a new one, with
		// nothing attached, is in no cached principal context (only
		// contexts that were found are cached): every JITR reconnect
		// keeps the other devices' contexts.
		c.touchesNoPrincipal()
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
	// One statement: no transaction needed.
	err := s.read(ctx, func(tx Tx) error {
		var err error
		out, err = s.IssuersOf(ctx, tx, cert)
		return err
	})
	return out, err
}

// Limits on RegisterThing's parameters, in characters, from the model.
const (
	maxParameterKey   = 2048
	maxParameterValue = 4096
)

// RegisterThingResult is what RegisterThing provisioned.
type RegisterThingResult struct {
	// CertificatePEM is the template's certificate, "" when it has none.
	CertificatePEM string
	// ResourceARNs maps the logical id of each template resource to the
	// ARN of what it provisioned. AWS's documented example has the keys
	// "thing", "certificate" and a policy's logical name; whether the first
	// two are fixed words or logical ids is not documented (in every AWS
	// example the logical ids are those words), so iotcore uses the logical
	// ids throughout.
	ResourceARNs map[string]string
}

// RegisterThing provisions what a template body declares, rendered with
// params (RegisterThing, POST /things [MODEL; DOC provision-w-cert]), in ONE
// transaction: the thing and policies, created or reused as JITP does, and
// the certificate, attached to both. The certificate resource gives
//
//   - CertificateId: a registered certificate, which must exist;
//   - CertificatePem (with CACertificatePem to pick among CAs sharing a
//     subject): registered here, signed by an ACTIVE registered CA, unless
//     it is registered already;
//   - CertificateSigningRequest: a certificate the service CA issues.
//
// A new certificate takes the template's Status (ACTIVE by default), and so
// does an existing PENDING_ACTIVATION one, as in JITP; another existing
// certificate changes status only when the template sets a different one,
// subject to OverrideSettings.Status (DO_NOTHING keeps it, FAIL fails).
//
// A template or parameter problem is an InvalidRequestException with the
// template package's message; a resource that cannot be provisioned (a
// missing thing type, group, policy or certificate) is a
// ResourceRegistrationFailureException naming the resource, and nothing is
// created.
func (s *Service) RegisterThing(ctx context.Context, body string, params map[string]string) (*RegisterThingResult, error) {
	if err := checkParameters(params); err != nil {
		return nil, err
	}
	tmpl, err := checkTemplateBody(body, false)
	if err != nil {
		return nil, err
	}
	plan, err := Plan(tmpl, params, nil)
	if err != nil {
		return nil, templateError(err)
	}
	var tc *templateCertificate
	if rc := plan.Certificate; rc != nil {
		if tc, err = s.templateCertificate(rc, s.now()); err != nil {
			return nil, registrationFailure(&ProvisionError{Step: "certificate", Resource: rc.LogicalID, Err: err})
		}
	}
	var out *RegisterThingResult
	err = s.update(ctx, func(tx Tx, c *change) error {
		out = &RegisterThingResult{ResourceARNs: map[string]string{}}
		var rec *Certificate
		if tc != nil {
			var err error
			if rec, err = s.settleCertificate(ctx, tx, c, tc); err != nil {
				return &ProvisionError{Step: "certificate", Resource: tc.logicalID, Err: err}
			}
			out.CertificatePEM = rec.PEM
			out.ResourceARNs[tc.logicalID] = s.Account.CertificateARN(rec.ID)
		}
		if err := s.carryOut(ctx, tx, c, rec, plan, &ProvisionResult{}); err != nil {
			return err
		}
		if t := plan.Thing; t != nil {
			out.ResourceARNs[t.LogicalID] = s.Account.ThingARN(t.Name)
		}
		for _, p := range plan.Policies {
			out.ResourceARNs[p.LogicalID] = s.Account.PolicyARN(p.Name)
		}
		return nil
	})
	if err != nil {
		return nil, registrationFailure(err)
	}
	return out, nil
}

// templateCertificate is a template's certificate resource, with its PEMs
// parsed (or its CSR signed) before the transaction.
type templateCertificate struct {
	logicalID string
	id        string            // CertificateId, or the id of cert
	cert      *x509.Certificate // from CertificatePem or CertificateSigningRequest; nil for CertificateId
	hint      *x509.Certificate // CACertificatePem, or nil
	issued    bool              // cert was issued here from a CSR
	status    string            // the template's Status, "" when it sets none
	override  string            // OverrideSettings.Status, "" when unset
}

func (s *Service) templateCertificate(rc *PlannedCertificate, now time.Time) (*templateCertificate, error) {
	tc := &templateCertificate{logicalID: rc.LogicalID, id: normalizeID(rc.ID), status: rc.Status, override: rc.Override}
	var err error
	switch {
	case rc.PEM != "":
		if tc.cert, err = parseCertificate(rc.PEM, "CertificatePem"); err != nil {
			return nil, err
		}
		if rc.CAPEM != "" {
			if tc.hint, err = parseCertificate(rc.CAPEM, "CACertificatePem"); err != nil {
				return nil, err
			}
		}
	case rc.CSR != "":
		if tc.cert, err = s.issueFromCSR(rc.CSR, "CertificateSigningRequest", now); err != nil {
			return nil, err
		}
		tc.issued = true
	}
	if tc.cert != nil {
		tc.id = pki.CertificateID(tc.cert.Raw)
	}
	return tc, nil
}

// settleCertificate finds or registers the template's certificate inside tx
// and gives it the template's status.
func (s *Service) settleCertificate(ctx context.Context, tx Tx, c *change, tc *templateCertificate) (*Certificate, error) {
	rec, err := tx.Certificate(ctx, tc.id)
	switch {
	case err == nil:
		return rec, s.applyTemplateStatus(ctx, tx, c, rec, tc)
	case !errors.Is(err, ErrNotFound):
		return nil, err
	case tc.cert == nil:
		return nil, iot.NotFound("certificate", tc.id)
	}
	status := tc.status
	if status == "" {
		status = iot.StatusActive
	}
	if tc.issued {
		rec = s.newCertificate(tc.cert, "", iot.ModeDefault, status, c.now)
	} else {
		if err := checkValidity(tc.cert, c.now); err != nil {
			return nil, err
		}
		ca, err := s.findIssuer(ctx, tx, tc.cert, tc.hint)
		if err != nil {
			return nil, err
		}
		if ca.Status != iot.StatusActive {
			return nil, iot.Errorf(iot.CertificateValidation, "the CA certificate %s that signed the certificate is not ACTIVE", ca.ID)
		}
		rec = s.newCertificate(tc.cert, ca.ID, ca.Mode, status, c.now)
	}
	c.emit(CertificateChanged, rec.ID)
	return rec, tx.InsertCertificate(ctx, rec)
}

// applyTemplateStatus gives an existing certificate the template's Status.
// A PENDING_ACTIVATION certificate is one that provisioning has not
// finished (JITR registered it, or JITP failed): it takes the template's
// Status, ACTIVE by default, whatever the OverrideSettings. Any other keeps
// its status unless the template sets another, which OverrideSettings.Status
// may refuse (FAIL) or ignore (DO_NOTHING).
func (s *Service) applyTemplateStatus(ctx context.Context, tx Tx, c *change, rec *Certificate, tc *templateCertificate) error {
	want := tc.status
	if rec.Status == iot.StatusPendingActivation {
		if want == "" {
			want = iot.StatusActive
		}
	} else {
		if want == "" || want == rec.Status {
			return nil
		}
		switch tc.override {
		case template.OverrideDoNothing:
			return nil
		case template.OverrideFail:
			return iot.Errorf(iot.InvalidRequest, "the certificate %s is %s, not %s, and its OverrideSettings.Status is FAIL", rec.ID, rec.Status, want)
		}
		switch rec.Status {
		case iot.StatusRevoked, iot.StatusPendingTransfer:
			return iot.Errorf(iot.CertificateState, "the certificate %s is %s and cannot be made %s", rec.ID, rec.Status, want)
		}
	}
	rec.Status = want
	rec.UpdatedAt = c.now
	rec.CustomerVersion++
	rec.GenerationID = newID()
	c.emit(CertificateChanged, rec.ID)
	return tx.UpdateCertificate(ctx, rec)
}

// registrationFailure turns a ProvisionError that carries a client-safe
// reason into ResourceRegistrationFailureException, naming the resource as
// the template package names places: "Resources.<logical id>: <reason>".
// Anything else goes on as it is.
func registrationFailure(err error) error {
	var pe *ProvisionError
	var ie *iot.Error
	if !errors.As(err, &pe) || !errors.As(pe.Err, &ie) {
		return err
	}
	msg := ie.Message
	if pe.Resource != "" {
		msg = "Resources." + pe.Resource + ": " + msg
	}
	return &iot.Error{Code: iot.ResourceRegistrationFailure, Message: msg, Err: err}
}
