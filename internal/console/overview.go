package console

import (
	"net/http"

	"github.com/iotcore/iotcore/internal/registry"
)

// overview is the console's first page: connected devices, the CAs, and
// the latest provisioning attempts.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	reg := c.cfg.Registry
	cas, _, err := reg.ListCACertificates(ctx, registry.CACertificateFilter{}, registry.PageRequest{Size: 10})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	attempts, _, err := reg.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{}, registry.PageRequest{Size: 10})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	connected := 0
	if c.cfg.Connections != nil {
		connected = c.cfg.Connections.ConnectionCount()
	}
	c.render(w, r, s, http.StatusOK, "overview", map[string]any{"Title": "Overview", "CAs": cas, "Attempts": attempts, "Connected": connected})
}
