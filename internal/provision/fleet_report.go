package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

// fleetAttempt is what the operator learns of one request.
type fleetAttempt struct {
	op            fleetOp
	clientID      string
	claimID       string // the certificate the connection authenticated with
	template      string // RegisterThing's
	certificateID string // the new certificate, once known
	thingName     string
	status        string // the new certificate's status afterwards
	warnings      []string
}

// report tells the operator about a request in the places JITP attempts
// go: the log, the metric and the attempts record the API lists.
func (f *Fleet) report(ctx context.Context, a *fleetAttempt, rej *rejection, at time.Time) {
	rec := registry.ProvisioningAttempt{At: at, Kind: string(FleetProvisioning), CertificateID: a.certificateID,
		ThingName: a.thingName, Status: a.status}
	if rec.CertificateID == "" {
		rec.CertificateID = a.claimID
	}
	who := fmt.Sprintf("%s by client %q with the claim certificate %s", a.op, a.clientID, a.claimID)
	if a.template != "" {
		who += " on the template " + a.template
	}
	switch {
	case rej != nil:
		rec.Outcome, rec.Step, rec.Reason = registry.AttemptFailed, rej.step, who+": "+rej.detail()
	case a.op == opRegisterThing:
		rec.Outcome, rec.Reason = registry.AttemptProvisioned, who
		if len(a.warnings) > 0 {
			rec.Reason += ": provisioned, but it will be refused: " + strings.Join(a.warnings, "; ")
		}
	default:
		rec.Outcome, rec.Reason = registry.AttemptRegistered, who+": certificate issued PENDING_ACTIVATION, awaiting RegisterThing"
	}
	f.log(ctx, a, rej, rec)
	if f.Metrics != nil {
		f.Metrics.ProvisioningAttempt(rec.Kind, rec.Outcome, rec.Step)
	}
	if err := f.Registry.RecordProvisioningAttempt(ctx, rec); err != nil && f.Logger != nil {
		f.Logger.ErrorContext(ctx, "recording a fleet-provisioning attempt", "certificate_id", rec.CertificateID, "error", err)
	}
	f.publish(ctx, a, rec)
}

// publish announces an attempt on FleetAttemptsTopic, when someone listens.
func (f *Fleet) publish(ctx context.Context, a *fleetAttempt, rec registry.ProvisioningAttempt) {
	if f.Events == nil || !f.Events.Subscribed(FleetAttemptsTopic) {
		return
	}
	payload, _ := json.Marshal(AttemptEvent{
		Timestamp: rec.At.UnixMilli(), Kind: rec.Kind, Outcome: rec.Outcome, CertificateID: rec.CertificateID,
		TemplateName: a.template, ClientID: a.clientID, ThingName: rec.ThingName, CertificateStatus: rec.Status,
		FailedStep: rec.Step, Reason: rec.Reason,
	})
	if err := f.Events.Publish(FleetAttemptsTopic, payload, false, 1); err != nil && f.Logger != nil {
		f.Logger.WarnContext(ctx, "publishing a fleet-provisioning attempt", "certificate_id", rec.CertificateID, "error", err)
	}
}

func (f *Fleet) log(ctx context.Context, a *fleetAttempt, rej *rejection, rec registry.ProvisioningAttempt) {
	if f.Logger == nil {
		return
	}
	attrs := []any{"kind", rec.Kind, "operation", string(a.op), "client_id", a.clientID, "claim_certificate_id", a.claimID}
	if a.template != "" {
		attrs = append(attrs, "template", a.template)
	}
	if a.certificateID != "" {
		attrs = append(attrs, "certificate_id", a.certificateID, "status", a.status)
	}
	if a.thingName != "" {
		attrs = append(attrs, "thing", a.thingName)
	}
	level, msg := slog.LevelInfo, "fleet provisioning: "+string(a.op)+" accepted"
	switch {
	case rej != nil && rej.code == codeInternalFailure:
		level, msg = slog.LevelError, "fleet provisioning: "+string(a.op)+" failed"
		attrs = append(attrs, "step", rej.step, "error_code", rej.code, "error", rej.detail())
	case rej != nil:
		level, msg = slog.LevelWarn, "fleet provisioning: "+string(a.op)+" rejected"
		attrs = append(attrs, "step", rej.step, "error_code", rej.code, "reason", rej.detail())
	case len(a.warnings) > 0:
		level = slog.LevelWarn
		msg += ", but its policies name another region or account than this server's: it will be refused"
		attrs = append(attrs, "warnings", a.warnings)
	}
	f.Logger.Log(ctx, level, msg, attrs...)
}
