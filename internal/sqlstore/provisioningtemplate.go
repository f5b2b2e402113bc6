package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Provisioning templates live in provisioning_templates, with their
// pre-provisioning hook inline (hook_target_arn '' for none); their bodies
// in provisioning_template_versions.

const provisioningTemplateColumns = `name, description, type, enabled, role_arn,
	hook_target_arn, hook_payload_version, default_version, last_version, created_at, updated_at`

func scanProvisioningTemplate(sc scanner) (registry.ProvisioningTemplate, error) {
	var t registry.ProvisioningTemplate
	var hookTarget, hookPayload string
	var created, updated int64
	err := sc.Scan(&t.Name, &t.Description, &t.Type, &t.Enabled, &t.RoleARN,
		&hookTarget, &hookPayload, &t.DefaultVersion, &t.LastVersion, &created, &updated)
	if hookTarget != "" {
		t.Hook = &registry.ProvisioningHook{TargetARN: hookTarget, PayloadVersion: hookPayload}
	}
	t.CreatedAt, t.UpdatedAt = fromMillis(created), fromMillis(updated)
	return t, err
}

func provisioningTemplateArgs(t *registry.ProvisioningTemplate) []any {
	var hook registry.ProvisioningHook
	if t.Hook != nil {
		hook = *t.Hook
	}
	return []any{t.Name, t.Description, t.Type, t.Enabled, t.RoleARN,
		hook.TargetARN, hook.PayloadVersion, t.DefaultVersion, t.LastVersion, millis(t.CreatedAt), millis(t.UpdatedAt)}
}

// ProvisioningTemplate returns the named provisioning template.
func (t *tx) ProvisioningTemplate(ctx context.Context, name string) (*registry.ProvisioningTemplate, error) {
	return queryOne(ctx, t, fmt.Sprintf("provisioning template %q", name),
		`SELECT `+provisioningTemplateColumns+` FROM provisioning_templates WHERE name = $1`, []any{name}, scanProvisioningTemplate)
}

// InsertProvisioningTemplate inserts a new provisioning template; it fails if
// the name is taken.
func (t *tx) InsertProvisioningTemplate(ctx context.Context, pt *registry.ProvisioningTemplate) error {
	if pt.Hook != nil && pt.Hook.TargetARN == "" {
		return fmt.Errorf("insert provisioning template %q: a pre-provisioning hook needs a target ARN", pt.Name)
	}
	if _, err := t.exec(ctx, `INSERT INTO provisioning_templates (`+provisioningTemplateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, provisioningTemplateArgs(pt)...); err != nil {
		return fmt.Errorf("insert provisioning template %q: %w", pt.Name, err)
	}
	return nil
}

// UpdateProvisioningTemplate overwrites a provisioning template; ErrNotFound
// when it does not exist.
func (t *tx) UpdateProvisioningTemplate(ctx context.Context, pt *registry.ProvisioningTemplate) error {
	if pt.Hook != nil && pt.Hook.TargetARN == "" {
		return fmt.Errorf("update provisioning template %q: a pre-provisioning hook needs a target ARN", pt.Name)
	}
	return t.execOne(ctx, fmt.Sprintf("update provisioning template %q", pt.Name), `
		UPDATE provisioning_templates SET description = $2, type = $3, enabled = $4, role_arn = $5,
			hook_target_arn = $6, hook_payload_version = $7, default_version = $8, last_version = $9,
			created_at = $10, updated_at = $11
		WHERE name = $1`, provisioningTemplateArgs(pt)...)
}

// DeleteProvisioningTemplate deletes a provisioning template and all its
// versions; ErrNotFound when it does not exist.
func (t *tx) DeleteProvisioningTemplate(ctx context.Context, name string) error {
	if _, err := t.exec(ctx, `DELETE FROM provisioning_template_versions WHERE template_name = $1`, name); err != nil {
		return fmt.Errorf("delete provisioning template %q: %w", name, err)
	}
	return t.execOne(ctx, fmt.Sprintf("delete provisioning template %q", name),
		`DELETE FROM provisioning_templates WHERE name = $1`, name)
}

// ListProvisioningTemplates lists provisioning templates by name.
func (t *tx) ListProvisioningTemplates(ctx context.Context, p registry.Page) ([]registry.ProvisioningTemplate, error) {
	var s stmt
	s.after("name", p, false)
	q := s.build(`SELECT `+provisioningTemplateColumns+` FROM provisioning_templates`, `ORDER BY name`, p.Limit)
	return queryAll(ctx, t, "list provisioning templates", q, s.args, scanProvisioningTemplate)
}

const provisioningTemplateVersionColumns = `template_name, version_id, body, created_at`

func scanProvisioningTemplateVersion(sc scanner) (registry.ProvisioningTemplateVersion, error) {
	var v registry.ProvisioningTemplateVersion
	var created int64
	err := sc.Scan(&v.TemplateName, &v.VersionID, &v.Body, &created)
	v.CreatedAt = fromMillis(created)
	return v, err
}

// ProvisioningTemplateVersion returns one version of a provisioning template.
func (t *tx) ProvisioningTemplateVersion(ctx context.Context, name string, version int64) (*registry.ProvisioningTemplateVersion, error) {
	return queryOne(ctx, t, fmt.Sprintf("provisioning template %q version %d", name, version),
		`SELECT `+provisioningTemplateVersionColumns+` FROM provisioning_template_versions
		WHERE template_name = $1 AND version_id = $2`, []any{name, version}, scanProvisioningTemplateVersion)
}

// InsertProvisioningTemplateVersion inserts a new version of an existing
// template; it fails if the template does not exist or already has that
// version.
func (t *tx) InsertProvisioningTemplateVersion(ctx context.Context, v *registry.ProvisioningTemplateVersion) error {
	if _, err := t.exec(ctx, `INSERT INTO provisioning_template_versions (`+provisioningTemplateVersionColumns+`)
		VALUES ($1, $2, $3, $4)`, v.TemplateName, v.VersionID, v.Body, millis(v.CreatedAt)); err != nil {
		return fmt.Errorf("insert provisioning template %q version %d: %w", v.TemplateName, v.VersionID, err)
	}
	return nil
}

// DeleteProvisioningTemplateVersion deletes one version of a template;
// ErrNotFound when it does not exist.
func (t *tx) DeleteProvisioningTemplateVersion(ctx context.Context, name string, version int64) error {
	return t.execOne(ctx, fmt.Sprintf("delete provisioning template %q version %d", name, version),
		`DELETE FROM provisioning_template_versions WHERE template_name = $1 AND version_id = $2`, name, version)
}

// ListProvisioningTemplateVersions lists a template's versions by id,
// lowest first; p.After is a registry.VersionCursor.
func (t *tx) ListProvisioningTemplateVersions(ctx context.Context, name string, p registry.Page) ([]registry.ProvisioningTemplateVersion, error) {
	what := fmt.Sprintf("list versions of provisioning template %q", name)
	var s stmt
	s.where("template_name = " + s.arg(name))
	if p.After != "" {
		id, err := registry.ParseVersionCursor(p.After)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		s.where("version_id > " + s.arg(id))
	}
	q := s.build(`SELECT `+provisioningTemplateVersionColumns+` FROM provisioning_template_versions`, `ORDER BY version_id`, p.Limit)
	return queryAll(ctx, t, what, q, s.args, scanProvisioningTemplateVersion)
}
