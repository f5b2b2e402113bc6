package provision

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
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

// Check is the offline dry run of JITP (`iotcore template check`): it
// renders the template body with cert's parameters by the same function
// that a device's first connection goes through (registry.PlanJITP) and
// returns the plan the registry would carry out, or the precise failure. It
// changes nothing. Whether named policies, thing types and groups exist is
// known only to a running server, whose Provisioner.DryRun runs the plan
// against the registry too.
func Check(body string, cert *x509.Certificate) (registry.ProvisionPlan, error) {
	plan, err := registry.PlanJITP(body, cert)
	if err != nil {
		return registry.ProvisionPlan{}, stepFailure(err)
	}
	return plan, nil
}

// PlanWarnings says which policy documents of plan name another region or
// account than acct's (registry.ForeignPolicyARNs): devices provisioned
// with them would be refused. Policies the plan names without a document
// live on the server and are checked there.
func PlanWarnings(plan registry.ProvisionPlan, acct iot.Account) []string {
	var docs []registry.NamedPolicy
	for _, p := range plan.Policies {
		if p.Document != "" {
			docs = append(docs, registry.NamedPolicy{Name: p.Name, Document: p.Document})
		}
	}
	return registry.ForeignPolicyARNs(acct, docs)
}

// Describe writes a plan as the resources JITP would create or reuse.
func Describe(plan registry.ProvisionPlan, certID string) string {
	var b strings.Builder
	status := ""
	if plan.Certificate != nil {
		status = plan.Certificate.Status
	}
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
