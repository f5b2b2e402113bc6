package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

const provisioningAttemptColumns = `id, at, kind, ca_id, certificate_id, thing_name, outcome, step, reason, status`

func scanProvisioningAttempt(sc scanner) (registry.ProvisioningAttempt, error) {
	var a registry.ProvisioningAttempt
	var at int64
	err := sc.Scan(&a.ID, &at, &a.Kind, &a.CAID, &a.CertificateID, &a.ThingName, &a.Outcome, &a.Step, &a.Reason, &a.Status)
	a.At = fromMillis(at)
	return a, err
}

// InsertProvisioningAttempt records an attempt.
func (t *tx) InsertProvisioningAttempt(ctx context.Context, a *registry.ProvisioningAttempt) error {
	if _, err := t.exec(ctx, `INSERT INTO provisioning_attempts (`+provisioningAttemptColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, millis(a.At), a.Kind, a.CAID, a.CertificateID, a.ThingName, a.Outcome, a.Step, a.Reason, a.Status); err != nil {
		return fmt.Errorf("insert provisioning attempt: %w", err)
	}
	return nil
}

// ListProvisioningAttempts lists attempts newest first, keyed by
// registry.CertificateCursor(At, ID).
func (t *tx) ListProvisioningAttempts(ctx context.Context, f registry.ProvisioningAttemptFilter, p registry.Page) ([]registry.ProvisioningAttempt, error) {
	var s stmt
	if f.CAID != "" {
		s.where("ca_id = " + s.arg(f.CAID))
	}
	if f.CertificateID != "" {
		s.where("certificate_id = " + s.arg(f.CertificateID))
	}
	if p.After != "" {
		ms, id, err := registry.ParseCertificateCursor(p.After)
		if err != nil {
			return nil, fmt.Errorf("list provisioning attempts: %w", err)
		}
		s.where("(at, id) < (" + s.arg(ms) + ", " + s.arg(id) + ")")
	}
	q := s.build(`SELECT `+provisioningAttemptColumns+` FROM provisioning_attempts`, "ORDER BY at DESC, id DESC", p.Limit)
	return queryAll(ctx, t, "list provisioning attempts", q, s.args, scanProvisioningAttempt)
}

// PruneProvisioningAttempts deletes attempts recorded before the given time.
func (t *tx) PruneProvisioningAttempts(ctx context.Context, before time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM provisioning_attempts WHERE at < $1`, millis(before)); err != nil {
		return fmt.Errorf("prune provisioning attempts: %w", err)
	}
	return nil
}
