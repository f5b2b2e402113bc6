package console

import (
	"net/http"

	"github.com/iotcore/iotcore/internal/registry"
)

// policies lists the IoT policies by name.
func (c *Console) policies(w http.ResponseWriter, r *http.Request, s *session) {
	rows, next, err := c.cfg.Registry.ListPolicies(r.Context(), true, pageRequest(r))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "policies", map[string]any{"Title": "Policies", "List": newListing(r, rows, next)})
}

// policy shows a policy's default document, its versions and its targets.
func (c *Console) policy(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	reg := c.cfg.Registry
	name := r.PathValue("name")
	p, err := reg.Policy(ctx, name)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	_, versions, err := reg.ListPolicyVersions(ctx, name)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	targets, moreTargets, err := reg.ListTargetsForPolicy(ctx, name, registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "policy", map[string]any{"Title": "Policy " + name, "Nav": "policies",
		"Policy": p, "ARN": reg.Account.PolicyARN(name), "Versions": versions, "Targets": targets, "MoreTargets": moreTargets != ""})
}
