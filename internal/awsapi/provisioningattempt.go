package awsapi

import "github.com/iotcore/iotcore/internal/registry"

// listProvisioningAttempts is iotcore's own operation (GET
// /iotcore/provisioning-attempts?caCertificateId=&certificateId=): the recent
// JITP and JITR attempts, newest first, with the step that failed and why.
func listProvisioningAttempts(s *Server, r *request) (any, error) {
	return listing(r, tokens, "attempts", func(pr registry.PageRequest) ([]registry.ProvisioningAttempt, string, error) {
		return s.Registry.ListProvisioningAttempts(r.Context(), registry.ProvisioningAttemptFilter{
			CAID: r.query("caCertificateId"), CertificateID: r.query("certificateId"),
		}, pr)
	}, func(a registry.ProvisioningAttempt) obj {
		o := obj{
			"timestamp":       epoch(a.At),
			"kind":            a.Kind,
			"outcome":         a.Outcome,
			"caCertificateId": a.CAID,
			"certificateId":   a.CertificateID,
		}
		for k, v := range map[string]string{"thingName": a.ThingName, "certificateStatus": a.Status, "failedStep": a.Step, "reason": a.Reason} {
			if v != "" {
				o[k] = v
			}
		}
		return o
	})
}
