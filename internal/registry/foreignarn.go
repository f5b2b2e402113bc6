package registry

import (
	"context"
	"log/slog"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/policy"
	"github.com/iotcore/iotcore/internal/template"
)

// ForeignPolicyARNs says, for each resource of policies that is an AWS IoT
// ARN in another region or account than acct's, why it will never match on
// this server (policy.Document.ForeignARNs), e.g.
//
//	policy DevicePolicy: Resource "arn:aws:iot:eu-west-1:123456789012:client/d1" names the region eu-west-1, but this server's region is us-east-2
//
// A device whose policies grant iot:Connect only through such resources is
// refused. The gate adds these to a refusal's reason, the provisioner to a
// provisioning attempt, and the registry logs them when such a document is
// saved. A document that does not parse is skipped. Nil when all is well.
func ForeignPolicyARNs(acct iot.Account, policies []NamedPolicy) []string {
	var out []string
	for _, p := range policies {
		d, err := policy.Parse(p.Document)
		if err != nil {
			continue
		}
		for _, f := range d.ForeignARNs(acct.Region, acct.ID) {
			out = append(out, "policy "+p.Name+": "+f.String())
		}
	}
	return out
}

// logger returns the Service's Logger, or one that discards.
func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

// warnForeignARNs logs, once when a document is saved, each of its
// resources that names another region or account than the server's: what
// would otherwise surface only as "policies do not allow iot:Connect" on
// every device. kind and name say what was saved ("policy", "provisioning
// template", "CA certificate registrationConfig").
func (s *Service) warnForeignARNs(ctx context.Context, kind, name string, docs []NamedPolicy) {
	for _, why := range ForeignPolicyARNs(s.Account, docs) {
		s.logger().WarnContext(ctx, "a saved document names another region or account than this server's; devices will be refused (check --region and --account-id)",
			"saved", kind, "name", name, "problem", why, "server_region", s.Account.Region, "server_account", s.Account.ID)
	}
}

// templatePolicies returns the policy documents a template declares, as
// template.PolicyDocuments renders them before any device, named for
// warnForeignARNs by their logical ids.
func templatePolicies(t *template.Template) []NamedPolicy {
	var out []NamedPolicy
	for _, p := range t.PolicyDocuments() {
		out = append(out, NamedPolicy{Name: "Resources." + p.LogicalID, Document: p.PolicyDocument})
	}
	return out
}
