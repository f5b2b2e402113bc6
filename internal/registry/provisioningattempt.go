package registry

import (
	"context"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// Provisioning attempt outcomes.
const (
	AttemptProvisioned = "PROVISIONED" // JITP or RegisterThing created everything
	AttemptRegistered  = "REGISTERED"  // JITR left the certificate PENDING_ACTIVATION, as meant
	AttemptFailed      = "FAILED"
)

// ProvisioningAttempt records one just-in-time provisioning or registration
// attempt, so that an operator can see why a device did not get in.
type ProvisioningAttempt struct {
	ID            string
	At            time.Time
	Kind          string // JITP, JITR
	CAID          string
	CertificateID string
	ThingName     string
	Outcome       string // AttemptProvisioned, AttemptRegistered or AttemptFailed
	Step          string // the step that failed: template, render, certificate, thing, thing-group, policy, attach
	Reason        string // why, in words; for a provisioned device, what may still keep it out (policies naming another region or account)
	Status        string // the certificate's status afterwards
}

// ProvisioningAttemptFilter narrows a listing to one CA or one certificate.
type ProvisioningAttemptFilter struct {
	CAID          string
	CertificateID string
}

// ProvisioningAttemptTx stores provisioning attempts, listed newest first by
// CertificateCursor(At, ID).
type ProvisioningAttemptTx interface {
	InsertProvisioningAttempt(ctx context.Context, a *ProvisioningAttempt) error
	ListProvisioningAttempts(ctx context.Context, f ProvisioningAttemptFilter, p Page) ([]ProvisioningAttempt, error)
	// PruneProvisioningAttempts deletes attempts recorded before t.
	PruneProvisioningAttempts(ctx context.Context, before time.Time) error
}

// ProvisioningAttemptRetention is how long attempts are kept.
const ProvisioningAttemptRetention = 7 * 24 * time.Hour

// RecordProvisioningAttempt stores an attempt, in its own transaction (a
// failed attempt's own transaction was rolled back), and forgets attempts
// older than ProvisioningAttemptRetention.
func (s *Service) RecordProvisioningAttempt(ctx context.Context, a ProvisioningAttempt) error {
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		return s.insertAttempt(ctx, tx, c, a)
	})
}

// attemptPruneInterval is how often recording an attempt also forgets
// those older than ProvisioningAttemptRetention: pruning at every attempt
// cost a DELETE on the registry's single writer per device onboarded.
const attemptPruneInterval = time.Minute

// insertAttempt stores a in tx, and now and then prunes old attempts.
func (s *Service) insertAttempt(ctx context.Context, tx Tx, c *change, a ProvisioningAttempt) error {
	if a.ID == "" {
		a.ID = newID()
	}
	if a.At.IsZero() {
		a.At = c.now
	}
	if err := tx.InsertProvisioningAttempt(ctx, &a); err != nil {
		return err
	}
	last := s.attemptsPrunedAt.Load()
	if now := c.now.UnixNano(); now-last < int64(attemptPruneInterval) && now >= last {
		return nil
	}
	if err := tx.PruneProvisioningAttempts(ctx, c.now.Add(-ProvisioningAttemptRetention)); err != nil {
		return err
	}
	// Marked when pruned, not when committed: a rolled-back prune waits
	// for the next interval, which only keeps old attempts a minute longer.
	s.attemptsPrunedAt.Store(c.now.UnixNano())
	return nil
}

// ListProvisioningAttempts lists recent attempts, newest first.
func (s *Service) ListProvisioningAttempts(ctx context.Context, f ProvisioningAttemptFilter, pr PageRequest) ([]ProvisioningAttempt, string, error) {
	for _, id := range []string{f.CAID, f.CertificateID} {
		if id != "" {
			if err := iot.CertificateIDRule.Check(id); err != nil {
				return nil, "", err
			}
		}
	}
	f.CAID, f.CertificateID = normalizeID(f.CAID), normalizeID(f.CertificateID)
	return listPage(ctx, s, pr, func(a ProvisioningAttempt) string { return CertificateCursor(a.At, a.ID) }, func(tx Tx, p Page) ([]ProvisioningAttempt, error) {
		return tx.ListProvisioningAttempts(ctx, f, p)
	})
}
