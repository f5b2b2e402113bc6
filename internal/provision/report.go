package provision

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

// AttemptCounter counts attempts by kind, outcome and failed step (a metric).
type AttemptCounter interface {
	ProvisioningAttempt(kind, outcome, reason string)
}

// AttemptsTopic is iotcore's own reserved topic where every provisioning
// attempt of a CA is announced, for operators (documented in
// docs/operations.md). Devices cannot publish under $iotcore/.
func AttemptsTopic(caID string) string { return "$iotcore/events/provisioning/" + caID }

// FleetAttemptsTopic is where every fleet-provisioning request is announced,
// for operators: the three operations of every claim, with the template's
// name in the event once RegisterThing names one.
const FleetAttemptsTopic = "$iotcore/events/provisioning/fleet"

// Outcome is what an attempt came to, in the terms of the record.
func (r *Result) Outcome() string {
	switch {
	case r.Step != "":
		return registry.AttemptFailed
	case r.Kind == JITR:
		return registry.AttemptRegistered
	}
	return registry.AttemptProvisioned
}

// attemptRecord is the record of the attempt r that the API lists.
func (r *Result) attemptRecord(at time.Time) registry.ProvisioningAttempt {
	reason := r.Reason
	if r.Step == "" && len(r.Warnings) > 0 {
		reason = "provisioned, but it will be refused: " + strings.Join(r.Warnings, "; ")
	}
	return registry.ProvisioningAttempt{
		At: at, Kind: string(r.Kind), CAID: r.CAID, CertificateID: r.CertificateID, ThingName: r.ThingName,
		Outcome: r.Outcome(), Step: r.Step, Reason: reason, Status: r.Status,
	}
}

// report tells the operator about an attempt in the four places they look:
// the log, the metric, the attempts topic and the record the API lists
// (written here unless recorded says the provisioning transaction did).
func (p *Provisioner) report(ctx context.Context, r *Result, at time.Time, recorded bool) {
	p.log(ctx, r)
	a := r.attemptRecord(at)
	outcome, reason := a.Outcome, a.Reason
	if p.Metrics != nil {
		p.Metrics.ProvisioningAttempt(string(r.Kind), outcome, r.Step)
	}
	if !recorded {
		if err := p.Registry.RecordProvisioningAttempt(ctx, a); err != nil && p.Logger != nil {
			p.Logger.ErrorContext(ctx, "recording a provisioning attempt", "certificate_id", r.CertificateID, "error", err)
		}
	}
	if p.Events == nil || !p.Events.Subscribed(AttemptsTopic(r.CAID)) {
		return
	}
	payload, _ := json.Marshal(AttemptEvent{
		Timestamp: at.UnixMilli(), Kind: a.Kind, Outcome: outcome, CACertificateID: r.CAID, CertificateID: r.CertificateID,
		ThingName: r.ThingName, Policies: r.Policies, CertificateStatus: r.Status, FailedStep: r.Step, Reason: reason,
	})
	if err := p.Events.Publish(AttemptsTopic(r.CAID), payload, false, 1); err != nil && p.Logger != nil {
		p.Logger.WarnContext(ctx, "publishing a provisioning attempt", "certificate_id", r.CertificateID, "error", err)
	}
}

// AttemptEvent is the payload on AttemptsTopic.
type AttemptEvent struct {
	Timestamp         int64    `json:"timestamp"`
	Kind              string   `json:"kind"`
	Outcome           string   `json:"outcome"`
	CACertificateID   string   `json:"caCertificateId,omitempty"` // JITP and JITR
	TemplateName      string   `json:"templateName,omitempty"`    // fleet provisioning's RegisterThing
	ClientID          string   `json:"clientId,omitempty"`        // fleet provisioning: the claim connection
	CertificateID     string   `json:"certificateId"`
	ThingName         string   `json:"thingName,omitempty"`
	Policies          []string `json:"policies,omitempty"`
	CertificateStatus string   `json:"certificateStatus,omitempty"`
	FailedStep        string   `json:"failedStep,omitempty"`
	Reason            string   `json:"reason,omitempty"`
}
