package awsapi

import "github.com/iotcore/iotcore/internal/registry"

// listProvisioningAttempts is iotcore's own operation (GET
// /iotcore/provisioning-attempts?caCertificateId=&certificateId=): the recent
// JITP and JITR attempts, newest first, with the step that failed and why.
func listProvisioningAttempts(s *Server, r *request) (any, error) {
	pr, err := r.tokenPage()
	if err != nil {
		return nil, err
	}
	rows, next, err := s.Registry.ListProvisioningAttempts(r.Context(), registry.ProvisioningAttemptFilter{
		CAID: r.query("caCertificateId"), CertificateID: r.query("certificateId"),
	}, pr)
	if err != nil {
		return nil, err
	}
	attempts := make([]obj, 0, len(rows))
	for _, a := range rows {
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
		attempts = append(attempts, o)
	}
	return withNext(obj{"attempts": attempts}, "nextToken", next), nil
}
