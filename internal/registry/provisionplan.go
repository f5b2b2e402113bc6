package registry

import (
	"crypto/x509"
	"maps"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/template"
)

// ProvisionPlan is what a rendered provisioning template asks the registry to
// do for one device. Plan makes one; ProvisionDevice, PreviewDevice and
// RegisterThing carry it out.
type ProvisionPlan struct {
	Thing    *PlannedThing
	Policies []PlannedPolicy
	// Certificate is the template's certificate resource, nil when it has
	// none. JITP takes only its Status (for the device's own certificate);
	// RegisterThing settles it.
	Certificate *PlannedCertificate
	// DeviceConfiguration is the template's rendered DeviceConfiguration,
	// nil when it has none; fleet provisioning returns it to the device.
	DeviceConfiguration map[string]string
}

// PlannedThing is the thing a template declares. An existing thing of that
// name is reused as it is.
type PlannedThing struct {
	LogicalID    string // the template's name for the resource, for messages; may be ""
	Name         string
	TypeName     string
	Attributes   map[string]string
	Groups       []string
	BillingGroup string
	// AttributesSet says the template gives AttributePayload (possibly empty).
	AttributesSet bool
	// Overrides says what to do with each property of a thing that exists
	// already: OverrideSettings, keyed AttributePayload, ThingTypeName and
	// ThingGroups, valued DO_NOTHING (the default), REPLACE, MERGE or FAIL.
	Overrides map[string]string
}

// PlannedPolicy is a policy to attach: an existing one by name, or, when
// Document is set, one created under Name unless it already exists.
type PlannedPolicy struct {
	LogicalID string // the template's name for the resource, for messages; may be ""
	Name      string
	Document  string
}

// PlannedCertificate is a template's AWS::IoT::Certificate resource, as
// rendered: exactly one of ID, PEM and CSR is set.
type PlannedCertificate struct {
	LogicalID string
	ID        string // CertificateId
	PEM       string // CertificatePem
	CAPEM     string // CACertificatePem, only with PEM
	CSR       string // CertificateSigningRequest
	// Status is ACTIVE or INACTIVE, or "" when the template sets none
	// (ACTIVE for a new certificate).
	Status string
	// Override is OverrideSettings.Status, "" when unset.
	Override string
}

// status is the certificate's final status the plan asks for; "" when the
// template says nothing.
func (p ProvisionPlan) status() string {
	if p.Certificate == nil {
		return ""
	}
	return p.Certificate.Status
}

// Plan renders a parsed template with parameter values into a plan. It is
// the one place where a template becomes a plan: JITP and its dry run
// (PlanJITP), `iotcore template check`, RegisterThing and fleet
// provisioning all come through here. missing, which may be nil, says why
// a parameter has no value (template.CertificateParameters). A policy given
// only by its document is named template.GeneratedPolicyName. The error is
// the template package's *template.Error, whose text is safe for clients.
func Plan(t *template.Template, params, missing map[string]string) (ProvisionPlan, error) {
	r, err := t.Render(params, missing)
	if err != nil {
		return ProvisionPlan{}, err
	}
	var plan ProvisionPlan
	if t := r.Thing; t != nil {
		plan.Thing = &PlannedThing{LogicalID: t.LogicalID, Name: t.ThingName, TypeName: t.ThingTypeName,
			Attributes: t.Attributes, Groups: t.ThingGroups, BillingGroup: t.BillingGroup,
			AttributesSet: t.AttributesSet, Overrides: t.OverrideSettings}
	}
	for _, p := range r.Policies {
		name := p.PolicyName
		if name == "" {
			name = template.GeneratedPolicyName(p.PolicyDocument)
		}
		plan.Policies = append(plan.Policies, PlannedPolicy{LogicalID: p.LogicalID, Name: name, Document: p.PolicyDocument})
	}
	if c := r.Certificate; c != nil {
		plan.Certificate = &PlannedCertificate{LogicalID: c.LogicalID, ID: c.CertificateID, PEM: c.CertificatePem,
			CAPEM: c.CACertificatePem, CSR: c.CertificateSigningRequest, Status: c.Status, Override: c.OverrideSettings["Status"]}
	}
	plan.DeviceConfiguration = maps.Clone(r.DeviceConfiguration)
	return plan, nil
}

// PlanJITP is the plan just-in-time provisioning carries out for a device
// certificate: body, a JITP template, checked as JITP needs it
// (template.CheckJITP) and rendered with the certificate's parameters. The
// provisioner, its dry run and `iotcore template check` all call it, so a
// dry run renders exactly what the device's first connection would. A
// failure is a *ProvisionError whose Step is "template" (the body) or
// "render" (this certificate's values).
func PlanJITP(body string, cert *x509.Certificate) (ProvisionPlan, error) {
	t, err := template.Parse(body)
	if err != nil {
		return ProvisionPlan{}, &ProvisionError{Step: "template", Err: err}
	}
	if err := t.CheckJITP(); err != nil {
		return ProvisionPlan{}, &ProvisionError{Step: "template", Err: err}
	}
	params, missing := template.CertificateParameters(cert, pki.CertificateID(cert.Raw))
	plan, err := Plan(t, params, missing)
	if err != nil {
		return ProvisionPlan{}, &ProvisionError{Step: "render", Err: err}
	}
	return plan, nil
}
