package console

import (
	"net/http"

	"github.com/iotcore/iotcore/internal/registry"
)

// templates lists the provisioning templates (JITP and fleet provisioning).
func (c *Console) templates(w http.ResponseWriter, r *http.Request, s *session) {
	rows, next, err := c.cfg.Registry.ListProvisioningTemplates(r.Context(), pageRequest(r))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "templates", map[string]any{"Title": "Provisioning templates", "List": newListing(r, rows, next)})
}

// template shows a template's default body, its versions, its
// pre-provisioning hook and the CAs whose JITP uses it.
func (c *Console) template(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	reg := c.cfg.Registry
	name := r.PathValue("name")
	t, err := reg.ProvisioningTemplate(ctx, name)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	_, versions, _, err := reg.ListProvisioningTemplateVersions(ctx, name, registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	cas, _, err := reg.ListCACertificates(ctx, registry.CACertificateFilter{TemplateName: name}, registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "template", map[string]any{"Title": "Provisioning template " + name, "Nav": "templates",
		"Template": t, "ARN": reg.Account.ProvisioningTemplateARN(name), "Versions": versions, "CAs": cas})
}
