package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Policies live in policies, their documents in policy_versions.

const policyColumns = `name, default_version, last_version, created_at, updated_at, generation_id`

func scanPolicy(sc scanner) (registry.Policy, error) {
	var p registry.Policy
	var created, updated int64
	err := sc.Scan(&p.Name, &p.DefaultVersion, &p.LastVersion, &created, &updated, &p.GenerationID)
	p.CreatedAt, p.UpdatedAt = fromMillis(created), fromMillis(updated)
	return p, err
}

func policyArgs(p *registry.Policy) []any {
	return []any{p.Name, p.DefaultVersion, p.LastVersion, millis(p.CreatedAt), millis(p.UpdatedAt), p.GenerationID}
}

// Policy returns the named policy.
func (t *tx) Policy(ctx context.Context, name string) (*registry.Policy, error) {
	return queryOne(ctx, t, fmt.Sprintf("policy %q", name),
		`SELECT `+policyColumns+` FROM policies WHERE name = $1`, []any{name}, scanPolicy)
}

// InsertPolicy inserts a new policy; it fails if the name is taken.
func (t *tx) InsertPolicy(ctx context.Context, p *registry.Policy) error {
	if _, err := t.exec(ctx, `INSERT INTO policies (`+policyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		policyArgs(p)...); err != nil {
		return fmt.Errorf("insert policy %q: %w", p.Name, err)
	}
	return nil
}

// UpdatePolicy overwrites a policy; ErrNotFound when it does not exist.
func (t *tx) UpdatePolicy(ctx context.Context, p *registry.Policy) error {
	return t.execOne(ctx, fmt.Sprintf("update policy %q", p.Name), `
		UPDATE policies SET default_version = $2, last_version = $3, created_at = $4, updated_at = $5,
			generation_id = $6
		WHERE name = $1`, policyArgs(p)...)
}

// DeletePolicy deletes a policy and all its versions, but not its
// attachments; ErrNotFound when it does not exist.
func (t *tx) DeletePolicy(ctx context.Context, name string) error {
	if _, err := t.exec(ctx, `DELETE FROM policy_versions WHERE policy_name = $1`, name); err != nil {
		return fmt.Errorf("delete policy %q: %w", name, err)
	}
	return t.execOne(ctx, fmt.Sprintf("delete policy %q", name), `DELETE FROM policies WHERE name = $1`, name)
}

// ListPolicies lists policies by name, ascending or descending.
func (t *tx) ListPolicies(ctx context.Context, ascending bool, p registry.Page) ([]registry.Policy, error) {
	var s stmt
	s.after("name", p, !ascending)
	orderBy := "ORDER BY name DESC"
	if ascending {
		orderBy = "ORDER BY name"
	}
	q := s.build(`SELECT `+policyColumns+` FROM policies`, orderBy, p.Limit)
	return queryAll(ctx, t, "list policies", q, s.args, scanPolicy)
}

const policyVersionColumns = `policy_name, version_id, document, created_at`

func scanPolicyVersion(sc scanner) (registry.PolicyVersion, error) {
	var v registry.PolicyVersion
	var created int64
	err := sc.Scan(&v.PolicyName, &v.VersionID, &v.Document, &created)
	v.CreatedAt = fromMillis(created)
	return v, err
}

// PolicyVersion returns one version of a policy.
func (t *tx) PolicyVersion(ctx context.Context, name string, version int64) (*registry.PolicyVersion, error) {
	return queryOne(ctx, t, fmt.Sprintf("policy %q version %d", name, version),
		`SELECT `+policyVersionColumns+` FROM policy_versions WHERE policy_name = $1 AND version_id = $2`,
		[]any{name, version}, scanPolicyVersion)
}

// DefaultPolicyDocument returns the document of the policy's default
// version.
func (t *tx) DefaultPolicyDocument(ctx context.Context, name string) (string, error) {
	doc, err := queryOne(ctx, t, fmt.Sprintf("policy %q", name),
		`SELECT v.document FROM policies p JOIN policy_versions v ON v.policy_name = p.name AND v.version_id = p.default_version WHERE p.name = $1`,
		[]any{name}, func(sc scanner) (string, error) {
			var doc string
			return doc, sc.Scan(&doc)
		})
	if err != nil {
		return "", err
	}
	return *doc, nil
}

// InsertPolicyVersion inserts a new version of an existing policy; it fails if
// the policy does not exist or already has that version.
func (t *tx) InsertPolicyVersion(ctx context.Context, v *registry.PolicyVersion) error {
	if _, err := t.exec(ctx, `INSERT INTO policy_versions (`+policyVersionColumns+`) VALUES ($1, $2, $3, $4)`,
		v.PolicyName, v.VersionID, v.Document, millis(v.CreatedAt)); err != nil {
		return fmt.Errorf("insert policy %q version %d: %w", v.PolicyName, v.VersionID, err)
	}
	return nil
}

// DeletePolicyVersion deletes one version of a policy; ErrNotFound when it
// does not exist.
func (t *tx) DeletePolicyVersion(ctx context.Context, name string, version int64) error {
	return t.execOne(ctx, fmt.Sprintf("delete policy %q version %d", name, version),
		`DELETE FROM policy_versions WHERE policy_name = $1 AND version_id = $2`, name, version)
}

// ListPolicyVersions lists the versions of a policy, newest first.
func (t *tx) ListPolicyVersions(ctx context.Context, name string) ([]registry.PolicyVersion, error) {
	return queryAll(ctx, t, fmt.Sprintf("list versions of policy %q", name),
		`SELECT `+policyVersionColumns+` FROM policy_versions WHERE policy_name = $1 ORDER BY version_id DESC`,
		[]any{name}, scanPolicyVersion)
}
