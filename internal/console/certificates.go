package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// certificates lists device certificates, newest first, optionally of one CA.
func (c *Console) certificates(w http.ResponseWriter, r *http.Request, s *session) {
	ca := strings.TrimSpace(r.URL.Query().Get("ca"))
	rows, next, err := c.cfg.Registry.ListCertificates(r.Context(), registry.CertificateFilter{CAID: ca, WithoutClaims: true}, pageRequest(r))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "certificates", map[string]any{"Title": "Certificates", "List": newListing(r, rows, next), "CA": ca})
}

// certificate shows one certificate: status, CA, validity, the things and
// policies attached, its provisioning attempts, and the status actions.
func (c *Console) certificate(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	reg := c.cfg.Registry
	id := r.PathValue("id")
	cert, err := reg.Certificate(ctx, id)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	arn := reg.Account.CertificateARN(id)
	things, _, err := reg.ListPrincipalThings(ctx, arn, "", registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	policies, _, err := reg.ListAttachedPolicies(ctx, arn, false, registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	attempts, _, err := reg.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{CertificateID: id}, registry.PageRequest{Size: 10})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "certificate", map[string]any{"Title": "Certificate " + id[:min(12, len(id))], "Nav": "certificates",
		"Cert": cert, "ARN": arn, "Things": things, "Policies": policies, "Attempts": attempts,
		"Actions": certificateActions(cert.Status)})
}

// certificateAction is a status change the certificate page offers.
type certificateAction struct {
	Status, Label string
	Danger        bool
}

// certificateActions are the status changes AWS allows from status: a
// revoked certificate stays revoked; a pending one is activated (JITR) or
// revoked.
func certificateActions(status string) []certificateAction {
	activate := certificateAction{iot.StatusActive, "Activate", false}
	deactivate := certificateAction{iot.StatusInactive, "Deactivate", false}
	revoke := certificateAction{iot.StatusRevoked, "Revoke", true}
	switch status {
	case iot.StatusActive:
		return []certificateAction{deactivate, revoke}
	case iot.StatusInactive, iot.StatusPendingActivation:
		return []certificateAction{activate, revoke}
	}
	return nil
}

// setCertificateStatus activates, deactivates or revokes a certificate, as
// UpdateCertificate does: connected devices using it are disconnected.
func (c *Console) setCertificateStatus(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	status := r.PostFormValue("status")
	switch status {
	case iot.StatusActive, iot.StatusInactive, iot.StatusRevoked:
	default:
		c.fail(w, r, s, http.StatusBadRequest, "A certificate can be set ACTIVE, INACTIVE or REVOKED, not "+status+".")
		return
	}
	if err := c.cfg.Registry.UpdateCertificate(r.Context(), id, status); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.cfg.Audit.Info("control-plane change", "op", "UpdateCertificate", "via", "console", "principal", c.cfg.Credentials.AccessKeyID,
		"certificateId", id, "newStatus", status, "remote", r.RemoteAddr)
	http.Redirect(w, r, Prefix+"certificates/"+url.PathEscape(id)+"?done="+url.QueryEscape("Certificate set "+status+"."), http.StatusSeeOther)
}
