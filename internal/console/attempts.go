package console

import (
	"net/http"
	"strings"

	"github.com/iotcore/iotcore/internal/registry"
)

// attempts lists provisioning attempts, newest first, with why each device
// was or was not provisioned; optionally of one CA or one certificate. The
// first page refreshes itself (console.js asks for its rows again).
func (c *Console) attempts(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	f := registry.ProvisioningAttemptFilter{CAID: strings.TrimSpace(q.Get("ca")), CertificateID: strings.TrimSpace(q.Get("certificate"))}
	rows, next, err := c.cfg.Registry.ListProvisioningAttempts(r.Context(), f, pageRequest(r))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	data := map[string]any{"Title": "Provisioning attempts", "List": newListing(r, rows, next), "Filter": f}
	if r.Header.Get("X-Console-Fragment") == "rows" {
		c.renderFragment(w, r, "attempts", "attempt-rows", data)
		return
	}
	c.render(w, r, s, http.StatusOK, "attempts", data)
}
