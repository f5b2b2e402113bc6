package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Billing groups live in billing_groups; a thing's billing group is its
// things.billing_group_name ('' for none), indexed by group.

const billingGroupColumns = `name, id, description, version, created_at`

func scanBillingGroup(sc scanner) (registry.BillingGroup, error) {
	var g registry.BillingGroup
	var created int64
	if err := sc.Scan(&g.Name, &g.ID, &g.Description, &g.Version, &created); err != nil {
		return g, err
	}
	g.CreatedAt = fromMillis(created)
	return g, nil
}

// BillingGroup returns the named billing group.
func (t *tx) BillingGroup(ctx context.Context, name string) (*registry.BillingGroup, error) {
	return queryOne(ctx, t, fmt.Sprintf("billing group %q", name),
		`SELECT `+billingGroupColumns+` FROM billing_groups WHERE name = $1`, []any{name}, scanBillingGroup)
}

// InsertBillingGroup inserts a new billing group; it fails if the name is taken.
func (t *tx) InsertBillingGroup(ctx context.Context, g *registry.BillingGroup) error {
	if _, err := t.exec(ctx, `INSERT INTO billing_groups (`+billingGroupColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		g.Name, g.ID, g.Description, g.Version, millis(g.CreatedAt)); err != nil {
		return fmt.Errorf("insert billing group %q: %w", g.Name, err)
	}
	return nil
}

// UpdateBillingGroup overwrites a billing group; ErrNotFound when it does not exist.
func (t *tx) UpdateBillingGroup(ctx context.Context, g *registry.BillingGroup) error {
	return t.execOne(ctx, fmt.Sprintf("update billing group %q", g.Name), `
		UPDATE billing_groups SET id = $2, description = $3, version = $4, created_at = $5
		WHERE name = $1`, g.Name, g.ID, g.Description, g.Version, millis(g.CreatedAt))
}

// DeleteBillingGroup deletes a billing group, but not its things'
// membership; ErrNotFound when it does not exist.
func (t *tx) DeleteBillingGroup(ctx context.Context, name string) error {
	return t.execOne(ctx, fmt.Sprintf("delete billing group %q", name),
		`DELETE FROM billing_groups WHERE name = $1`, name)
}

// ListBillingGroups lists billing groups by name, those starting with
// namePrefix when it is not empty.
func (t *tx) ListBillingGroups(ctx context.Context, namePrefix string, p registry.Page) ([]registry.BillingGroup, error) {
	var s stmt
	if namePrefix != "" {
		s.where(s.keyPrefix("name", namePrefix))
	}
	s.after("name", p, false)
	q := s.build(`SELECT `+billingGroupColumns+` FROM billing_groups`, `ORDER BY name`, p.Limit)
	return queryAll(ctx, t, "list billing groups", q, s.args, scanBillingGroup)
}

// SetThingBillingGroup sets a thing's billing group ("" for none);
// ErrNotFound when the thing does not exist.
func (t *tx) SetThingBillingGroup(ctx context.Context, thing, group string) error {
	return t.execOne(ctx, fmt.Sprintf("set the billing group of thing %q", thing),
		`UPDATE things SET billing_group_name = $2 WHERE name = $1`, thing, group)
}

// ListThingsInBillingGroup lists the names of a billing group's things, in order.
func (t *tx) ListThingsInBillingGroup(ctx context.Context, group string, p registry.Page) ([]string, error) {
	var s stmt
	s.where("billing_group_name = " + s.arg(group))
	s.after("name", p, false)
	q := s.build(`SELECT name FROM things`, `ORDER BY name`, p.Limit)
	return t.queryStrings(ctx, fmt.Sprintf("list things in billing group %q", group), q, s.args...)
}
