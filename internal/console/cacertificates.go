package console

import (
	"net/http"

	"github.com/iotcore/iotcore/internal/registry"
)

// caCertificates lists the registered CA certificates.
func (c *Console) caCertificates(w http.ResponseWriter, r *http.Request, s *session) {
	rows, next, err := c.cfg.Registry.ListCACertificates(r.Context(), registry.CACertificateFilter{}, pageRequest(r))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "cas", map[string]any{"Title": "CA certificates", "List": newListing(r, rows, next)})
}

// caCertificate shows a CA: status, auto-registration, registration config,
// the devices it provisioned and its latest provisioning attempts.
func (c *Console) caCertificate(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	reg := c.cfg.Registry
	id := r.PathValue("id")
	ca, err := reg.CACertificate(ctx, id)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	certs, more, err := reg.ListCertificates(ctx, registry.CertificateFilter{CAID: id, WithoutClaims: true}, registry.PageRequest{Size: 10})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	attempts, _, err := reg.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{CAID: id}, registry.PageRequest{Size: 10})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "ca", map[string]any{"Title": "CA certificate " + id[:min(12, len(id))], "Nav": "cas",
		"CA": ca, "ARN": reg.Account.CACertificateARN(id), "Certificates": certs, "MoreCertificates": more != "", "Attempts": attempts})
}
