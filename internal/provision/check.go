package provision

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/template"
)

// TemplateBody accepts either a template body or a registration config as
// the seeds write it ({"templateBody": "...", "roleArn": "..."}) and returns
// the body.
func TemplateBody(text string) (string, error) {
	var wrapper struct {
		TemplateBody *string `json:"templateBody"`
	}
	if err := json.Unmarshal([]byte(text), &wrapper); err != nil {
		return "", fmt.Errorf("the template is not JSON: %w", err)
	}
	if wrapper.TemplateBody != nil {
		return *wrapper.TemplateBody, nil
	}
	return text, nil
}

// Check is a dry run of JITP: it renders the template body with cert's
// parameters, exactly as a device's first connection would, and returns the
// plan the registry would carry out, or the precise failure. It changes
// nothing. (Whether named policies, thing types and groups exist is only
// known to a running server.)
func Check(body string, cert *x509.Certificate) (registry.ProvisionPlan, error) {
	tmpl, err := template.Parse(body)
	if err != nil {
		return registry.ProvisionPlan{}, &failure{step: "template", err: err}
	}
	if err := tmpl.CheckJITP(); err != nil {
		return registry.ProvisionPlan{}, &failure{step: "template", err: err}
	}
	params, missing := template.CertificateParameters(cert, pki.CertificateID(cert.Raw))
	rendered, err := tmpl.Render(params, missing)
	if err != nil {
		return registry.ProvisionPlan{}, &failure{step: "render", err: err}
	}
	plan := registry.PlanFromTemplate(rendered)
	if rendered.Certificate != nil {
		plan.CertificateStatus = rendered.Certificate.Status
	}
	return plan, nil
}

// Describe writes a plan as the resources JITP would create or reuse.
func Describe(plan registry.ProvisionPlan, certID string) string {
	var b strings.Builder
	status := plan.CertificateStatus
	if status == "" {
		status = "ACTIVE"
	}
	fmt.Fprintf(&b, "certificate %s: registered PENDING_ACTIVATION, then %s\n", certID, status)
	if t := plan.Thing; t != nil {
		fmt.Fprintf(&b, "thing %s (created, or reused if it exists)\n", t.Name)
		if t.TypeName != "" {
			fmt.Fprintf(&b, "  thing type: %s (must exist)\n", t.TypeName)
		}
		for _, k := range sortedKeys(t.Attributes) {
			fmt.Fprintf(&b, "  attribute %s = %s\n", k, t.Attributes[k])
		}
		for _, g := range t.Groups {
			fmt.Fprintf(&b, "  in thing group %s (must exist)\n", g)
		}
		fmt.Fprintf(&b, "  the certificate is attached to it\n")
	}
	for _, p := range plan.Policies {
		if p.Document != "" {
			fmt.Fprintf(&b, "policy %s (created from the template's document unless it exists), attached to the certificate\n  %s\n", p.Name, p.Document)
		} else {
			fmt.Fprintf(&b, "policy %s (must exist), attached to the certificate\n", p.Name)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
