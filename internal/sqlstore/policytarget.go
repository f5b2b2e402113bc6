package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

// Policy attachments live in policy_targets, indexed both ways.

// AttachPolicy attaches a policy to a target; no error if it is attached.
func (t *tx) AttachPolicy(ctx context.Context, policy, target string, now time.Time) error {
	if _, err := t.exec(ctx, `
		INSERT INTO policy_targets (policy_name, target, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (policy_name, target) DO NOTHING`, policy, target, millis(now)); err != nil {
		return fmt.Errorf("attach policy %q to %q: %w", policy, target, err)
	}
	return nil
}

// DetachPolicy detaches a policy from a target; no error if it is not attached.
func (t *tx) DetachPolicy(ctx context.Context, policy, target string) error {
	if _, err := t.exec(ctx, `DELETE FROM policy_targets WHERE policy_name = $1 AND target = $2`,
		policy, target); err != nil {
		return fmt.Errorf("detach policy %q from %q: %w", policy, target, err)
	}
	return nil
}

// ListPolicyTargets lists the targets a policy is attached to, in order.
func (t *tx) ListPolicyTargets(ctx context.Context, policy string, p registry.Page) ([]string, error) {
	var s stmt
	s.where("policy_name = " + s.arg(policy))
	s.after("target", p, false)
	q := s.build(`SELECT target FROM policy_targets`, `ORDER BY target`, p.Limit)
	return t.queryStrings(ctx, fmt.Sprintf("list targets of policy %q", policy), q, s.args...)
}

// ListTargetPolicies lists the names of the policies attached to a target, in
// order.
func (t *tx) ListTargetPolicies(ctx context.Context, target string, p registry.Page) ([]string, error) {
	var s stmt
	s.where("target = " + s.arg(target))
	s.after("policy_name", p, false)
	q := s.build(`SELECT policy_name FROM policy_targets`, `ORDER BY policy_name`, p.Limit)
	return t.queryStrings(ctx, fmt.Sprintf("list policies of %q", target), q, s.args...)
}

// CountPolicyTargets counts the targets a policy is attached to.
func (t *tx) CountPolicyTargets(ctx context.Context, policy string) (int, error) {
	return t.count(ctx, fmt.Sprintf("count targets of policy %q", policy),
		`SELECT COUNT(*) FROM policy_targets WHERE policy_name = $1`, policy)
}

// CountTargetPolicies counts the policies attached to a target.
func (t *tx) CountTargetPolicies(ctx context.Context, target string) (int, error) {
	return t.count(ctx, fmt.Sprintf("count policies of %q", target),
		`SELECT COUNT(*) FROM policy_targets WHERE target = $1`, target)
}
