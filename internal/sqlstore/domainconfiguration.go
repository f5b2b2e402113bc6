package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Domain configurations live in domain_configurations; the settings iotcore
// keeps but does not act on are one JSON object.

const domainConfigurationColumns = `name, id, domain_name, domain_type, service_type, status, settings,
	created_at, status_changed_at`

func scanDomainConfiguration(sc scanner) (registry.DomainConfiguration, error) {
	var d registry.DomainConfiguration
	var settings string
	var created, changed int64
	if err := sc.Scan(&d.Name, &d.ID, &d.DomainName, &d.DomainType, &d.ServiceType, &d.Status, &settings,
		&created, &changed); err != nil {
		return d, err
	}
	d.CreatedAt, d.StatusChangedAt = fromMillis(created), fromMillis(changed)
	if err := json.Unmarshal([]byte(settings), &d.DomainSettings); err != nil {
		return d, fmt.Errorf("settings of domain configuration %q: %w", d.Name, err)
	}
	return d, nil
}

func domainConfigurationArgs(d *registry.DomainConfiguration) ([]any, error) {
	settings, err := json.Marshal(d.DomainSettings)
	if err != nil {
		return nil, err
	}
	return []any{d.Name, d.ID, d.DomainName, d.DomainType, d.ServiceType, d.Status, string(settings),
		millis(d.CreatedAt), millis(d.StatusChangedAt)}, nil
}

// DomainConfiguration returns the named domain configuration.
func (t *tx) DomainConfiguration(ctx context.Context, name string) (*registry.DomainConfiguration, error) {
	return queryOne(ctx, t, fmt.Sprintf("domain configuration %q", name),
		`SELECT `+domainConfigurationColumns+` FROM domain_configurations WHERE name = $1`, []any{name}, scanDomainConfiguration)
}

// InsertDomainConfiguration inserts a domain configuration; it fails if the
// name is taken.
func (t *tx) InsertDomainConfiguration(ctx context.Context, d *registry.DomainConfiguration) error {
	args, err := domainConfigurationArgs(d)
	if err != nil {
		return fmt.Errorf("insert domain configuration %q: %w", d.Name, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO domain_configurations (`+domainConfigurationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, args...); err != nil {
		return fmt.Errorf("insert domain configuration %q: %w", d.Name, err)
	}
	return nil
}

// UpdateDomainConfiguration overwrites a domain configuration; ErrNotFound
// when it does not exist.
func (t *tx) UpdateDomainConfiguration(ctx context.Context, d *registry.DomainConfiguration) error {
	args, err := domainConfigurationArgs(d)
	if err != nil {
		return fmt.Errorf("update domain configuration %q: %w", d.Name, err)
	}
	return t.execOne(ctx, fmt.Sprintf("update domain configuration %q", d.Name), `
		UPDATE domain_configurations SET id = $2, domain_name = $3, domain_type = $4, service_type = $5,
			status = $6, settings = $7, created_at = $8, status_changed_at = $9
		WHERE name = $1`, args...)
}

// DeleteDomainConfiguration deletes a domain configuration; ErrNotFound
// when it does not exist.
func (t *tx) DeleteDomainConfiguration(ctx context.Context, name string) error {
	return t.execOne(ctx, fmt.Sprintf("delete domain configuration %q", name),
		`DELETE FROM domain_configurations WHERE name = $1`, name)
}

// ListDomainConfigurations lists domain configurations by name.
func (t *tx) ListDomainConfigurations(ctx context.Context, p registry.Page) ([]registry.DomainConfiguration, error) {
	var s stmt
	s.after("name", p, false)
	q := s.build(`SELECT `+domainConfigurationColumns+` FROM domain_configurations`, `ORDER BY name`, p.Limit)
	return queryAll(ctx, t, "list domain configurations", q, s.args, scanDomainConfiguration)
}
