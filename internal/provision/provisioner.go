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
	"github.com/iotcore/iotcore/internal/template"
)

// Publisher sends the registration event to subscribers.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
	// Subscribed reports whether any subscription matches topic.
	Subscribed(topic string) bool
}

// Provisioner runs JITP and JITR.
type Provisioner struct {
	Registry *registry.Service
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
	Policies      []string
	Status        string // the certificate's status afterwards
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
	res := &Result{Kind: JITR, CertificateID: pki.CertificateID(cert.Raw), CAID: ca.ID}
	rc := ca.Registration
	var err error
	switch {
	case rc.TemplateBody != "":
		res.Kind = JITP
		err = p.jitp(ctx, cert, ca, rc.TemplateBody, res)
	case rc.TemplateName != "":
		res.Kind = JITP
		var body string
		if body, err = p.namedTemplate(ctx, rc.TemplateName); err == nil {
			err = p.jitp(ctx, cert, ca, body, res)
		}
	}
	if res.Kind == JITR || err != nil {
		rec, _, perr := p.Registry.RegisterPending(ctx, cert, ca)
		if perr != nil {
			err = errors.Join(err, &failure{step: "certificate", err: perr})
		} else {
			res.Status = rec.Status
			p.publishRegistered(rec)
		}
	}
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			res.Step, res.Reason = f.step, f.err.Error()
		} else {
			res.Step, res.Reason = "internal", err.Error()
		}
	}
	p.report(ctx, res, started)
	return res, err
}

func (p *Provisioner) jitp(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate, body string, res *Result) error {
	tmpl, err := template.Parse(body)
	if err != nil {
		return &failure{step: "template", err: err}
	}
	params, missing := template.CertificateParameters(cert, res.CertificateID)
	rendered, err := tmpl.Render(params, missing)
	if err != nil {
		return &failure{step: "render", err: err}
	}
	plan := registry.PlanFromTemplate(rendered)
	if rendered.Certificate != nil {
		plan.CertificateStatus = rendered.Certificate.Status
	}
	out, err := p.Registry.ProvisionDevice(ctx, cert, ca, plan)
	if err != nil {
		var pe *registry.ProvisionError
		if errors.As(err, &pe) {
			return &failure{step: pe.Step, err: pe.Err}
		}
		return err
	}
	res.ThingName, res.Policies, res.Status = out.ThingName, out.Policies, out.Certificate.Status
	p.publishRegistered(out.Certificate)
	return nil
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
	p.Logger.InfoContext(ctx, "device provisioned", append(attrs, "policies", r.Policies)...)
}
