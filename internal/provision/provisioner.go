package provision

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/registry"
)

// Publisher sends the registration event to subscribers.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
	// Subscribed reports whether any subscription matches topic.
	Subscribed(topic string) bool
}

// Registry is what provisioning needs of the registry: the template a CA
// names, the one transaction that provisions a device (and its dry run), a
// certificate left pending, and the record of each attempt.
type Registry interface {
	ProvisioningTemplate(ctx context.Context, name string) (*registry.ProvisioningTemplateWithBody, error)
	ProvisionAndRecord(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate, plan registry.ProvisionPlan,
		record func(*registry.ProvisionResult) registry.ProvisioningAttempt) (*registry.ProvisionResult, error)
	PreviewDevice(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate, plan registry.ProvisionPlan) (*registry.ProvisionResult, error)
	RegisterPending(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) (*registry.Certificate, bool, error)
	RecordProvisioningAttempt(ctx context.Context, a registry.ProvisioningAttempt) error
}

var _ Registry = (*registry.Service)(nil)

// Provisioner runs JITP and JITR.
type Provisioner struct {
	Registry Registry
	// Events receives $aws/events/certificates/registered/<caCertificateId>; nil drops events.
	Events Publisher
	Logger *slog.Logger
	// Metrics counts attempts; nil counts nothing.
	Metrics AttemptCounter
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (p *Provisioner) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Kind says what an attempt was.
type Kind string

// Kinds of attempt.
const (
	JITP Kind = "JITP"
	JITR Kind = "JITR"
)

// Result is the outcome of one attempt, for the operator.
type Result struct {
	Kind          Kind
	CertificateID string
	CAID          string
	ThingName     string
	ThingCreated  bool // false: an existing thing was reused
	Policies      []string
	// PoliciesCreated are those of Policies created from the template's
	// documents; the others existed.
	PoliciesCreated []string
	Status          string // the certificate's status afterwards
	// Plan is what the CA's template asked for this certificate (JITP), or
	// nil when no template was rendered.
	Plan *registry.ProvisionPlan
	// Warnings say why a provisioned device may still be refused: its
	// policies name another region or account than the server's.
	Warnings []string
	// Step and Reason say where and why a failed attempt failed.
	Step   string
	Reason string
}

// Provision handles an unknown (or PENDING_ACTIVATION) certificate signed by
// ca, whose auto-registration the caller has checked. The connection that
// triggered it is dropped either way, as AWS does; a non-nil error means the
// attempt failed, with the certificate left PENDING_ACTIVATION (AWS).
func (p *Provisioner) Provision(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) (*Result, error) {
	started := p.now()
	// A provisioned device's attempt is recorded in its own transaction
	// (one write on the registry's single writer, not two); a failed or
	// JITR attempt is recorded by report, as the transaction rolled back.
	recorded := false
	provision := func(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate, plan registry.ProvisionPlan) (*registry.ProvisionResult, error) {
		return p.Registry.ProvisionAndRecord(ctx, cert, ca, plan, func(out *registry.ProvisionResult) registry.ProvisioningAttempt {
			recorded = true
			r := Result{Kind: JITP, CertificateID: pki.CertificateID(cert.Raw), CAID: ca.ID, ThingName: out.ThingName,
				Status: out.Certificate.Status, Warnings: out.Warnings}
			return r.attemptRecord(started)
		})
	}
	res, rec, err := p.attempt(ctx, cert, ca, provision)
	if res.Kind == JITR || err != nil {
		pending, _, perr := p.Registry.RegisterPending(ctx, cert, ca)
		if perr != nil {
			err = errors.Join(err, &failure{step: "certificate", err: perr})
		} else {
			res.Status, rec = pending.Status, pending
		}
	}
	if rec != nil {
		p.publishRegistered(rec)
	}
	res.fail(err)
	p.report(ctx, res, started, recorded && err == nil && res.Kind == JITP)
	return res, err
}

// DryRun says what Provision would do for cert now, and changes nothing:
// it looks up the CA's template and renders it (registry.PlanJITP) as
// Provision does, and runs the registry's transaction for the plan rolled
// back (registry.PreviewDevice), so that its Result, failures included, is
// Provision's. Nothing is recorded, published or logged. A certificate that
// Provision would leave PENDING_ACTIVATION (JITR, or a failure) shows that
// status.
func (p *Provisioner) DryRun(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) (*Result, error) {
	res, _, err := p.attempt(ctx, cert, ca, p.Registry.PreviewDevice)
	if res.Kind == JITR || err != nil {
		res.Status = iot.StatusPendingActivation
	}
	res.fail(err)
	return res, err
}

// applyFunc carries out a plan: registry.Service.ProvisionDevice, or
// PreviewDevice for a dry run.
type applyFunc func(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate, plan registry.ProvisionPlan) (*registry.ProvisionResult, error)

// attempt is what Provision and DryRun share: the CA's template, its plan
// for cert, and apply. It returns the provisioned certificate when JITP
// succeeded.
func (p *Provisioner) attempt(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate, apply applyFunc) (*Result, *registry.Certificate, error) {
	res := &Result{Kind: JITR, CertificateID: pki.CertificateID(cert.Raw), CAID: ca.ID}
	rc := ca.Registration
	body := rc.TemplateBody
	if body == "" && rc.TemplateName == "" {
		return res, nil, nil
	}
	res.Kind = JITP
	if body == "" {
		var err error
		if body, err = p.namedTemplate(ctx, rc.TemplateName); err != nil {
			return res, nil, err
		}
	}
	plan, err := registry.PlanJITP(body, cert)
	if err != nil {
		return res, nil, stepFailure(err)
	}
	res.Plan = &plan
	out, err := apply(ctx, cert, ca, plan)
	if err != nil {
		return res, nil, stepFailure(err)
	}
	res.ThingName, res.ThingCreated, res.Status = out.ThingName, out.ThingCreated, out.Certificate.Status
	res.Policies, res.PoliciesCreated, res.Warnings = out.Policies, out.PoliciesCreated, out.Warnings
	return res, out.Certificate, nil
}

// stepFailure turns the registry's *ProvisionError into a failure at its step.
func stepFailure(err error) error {
	var pe *registry.ProvisionError
	if errors.As(err, &pe) {
		return &failure{step: pe.Step, err: pe.Err}
	}
	return err
}

// fail records a failed attempt's step and reason.
func (r *Result) fail(err error) {
	if err == nil {
		return
	}
	var f *failure
	if errors.As(err, &f) {
		r.Step, r.Reason = f.step, f.err.Error()
	} else {
		r.Step, r.Reason = "internal", err.Error()
	}
}

// namedTemplate returns the body of the default version of the JITP
// template a CA's registrationConfig names. A template that is missing, not
// of type JITP or disabled provisions nothing.
func (p *Provisioner) namedTemplate(ctx context.Context, name string) (string, error) {
	t, err := p.Registry.ProvisioningTemplate(ctx, name)
	switch {
	case iot.IsCode(err, iot.ResourceNotFound):
		return "", &failure{step: "template", err: fmt.Errorf("the provisioning template %q does not exist", name)}
	case err != nil:
		return "", err
	case t.Type != registry.TemplateTypeJITP:
		return "", &failure{step: "template", err: fmt.Errorf("the provisioning template %q is of type %s, not JITP", name, t.Type)}
	case !t.Enabled:
		return "", &failure{step: "template", err: fmt.Errorf("the provisioning template %q is disabled", name)}
	}
	return t.Body, nil
}

// failure is a failed step.
type failure struct {
	step string
	err  error
}

func (f *failure) Error() string { return f.step + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// RegisteredTopic is where AWS announces an automatically registered certificate.
func RegisteredTopic(caID string) string { return "$aws/events/certificates/registered/" + caID }

// publishRegistered sends AWS's registration event (reference 4.2).
func (p *Provisioner) publishRegistered(c *registry.Certificate) {
	if p.Events == nil || !p.Events.Subscribed(RegisteredTopic(c.CAID)) {
		return
	}
	payload, _ := json.Marshal(map[string]any{
		"certificateId":                    c.ID,
		"caCertificateId":                  c.CAID,
		"timestamp":                        p.now().UnixMilli(),
		"certificateStatus":                "PENDING_ACTIVATION",
		"awsAccountId":                     c.OwnedBy,
		"certificateRegistrationTimestamp": strconv.FormatInt(c.CreatedAt.UnixMilli(), 10),
	})
	if err := p.Events.Publish(RegisteredTopic(c.CAID), payload, false, 1); err != nil && p.Logger != nil {
		p.Logger.Warn("publish the registration event", "certificate_id", c.ID, "error", err)
	}
}

func (p *Provisioner) log(ctx context.Context, r *Result) {
	if p.Logger == nil {
		return
	}
	attrs := []any{"kind", r.Kind, "certificate_id", r.CertificateID, "ca_certificate_id", r.CAID, "status", r.Status}
	if r.ThingName != "" {
		attrs = append(attrs, "thing", r.ThingName)
	}
	if r.Step != "" {
		p.Logger.WarnContext(ctx, "provisioning failed", append(attrs, "step", r.Step, "reason", r.Reason)...)
		return
	}
	attrs = append(attrs, "policies", r.Policies)
	if len(r.Warnings) > 0 {
		p.Logger.WarnContext(ctx, "device provisioned, but its policies name another region or account than this server's: it will be refused", append(attrs, "warnings", r.Warnings)...)
		return
	}
	p.Logger.InfoContext(ctx, "device provisioned", attrs...)
}
