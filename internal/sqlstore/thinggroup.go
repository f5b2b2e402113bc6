package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
)

// Thing groups live in thing_groups, their attributes as a JSON object (they
// are never filtered on); static membership in thing_group_members, indexed
// both ways.

const thingGroupColumns = `name, id, parent_name, description, attributes, version, created_at`

func scanThingGroup(sc scanner) (registry.ThingGroup, error) {
	var g registry.ThingGroup
	var attrs string
	var created int64
	if err := sc.Scan(&g.Name, &g.ID, &g.ParentName, &g.Description, &attrs, &g.Version, &created); err != nil {
		return g, err
	}
	g.CreatedAt = fromMillis(created)
	if err := json.Unmarshal([]byte(attrs), &g.Attributes); err != nil {
		return g, fmt.Errorf("attributes of thing group %q: %w", g.Name, err)
	}
	if g.Attributes == nil {
		g.Attributes = map[string]string{}
	}
	return g, nil
}

func thingGroupArgs(g *registry.ThingGroup) ([]any, error) {
	attrs := g.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return nil, err
	}
	return []any{g.Name, g.ID, g.ParentName, g.Description, string(b), g.Version, millis(g.CreatedAt)}, nil
}

// ThingGroup returns the named thing group.
func (t *tx) ThingGroup(ctx context.Context, name string) (*registry.ThingGroup, error) {
	return queryOne(ctx, t, fmt.Sprintf("thing group %q", name),
		`SELECT `+thingGroupColumns+` FROM thing_groups WHERE name = $1`, []any{name}, scanThingGroup)
}

// InsertThingGroup inserts a new thing group; it fails if the name is taken.
func (t *tx) InsertThingGroup(ctx context.Context, g *registry.ThingGroup) error {
	args, err := thingGroupArgs(g)
	if err != nil {
		return fmt.Errorf("insert thing group %q: %w", g.Name, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO thing_groups (`+thingGroupColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, args...); err != nil {
		return fmt.Errorf("insert thing group %q: %w", g.Name, err)
	}
	return nil
}

// UpdateThingGroup overwrites a thing group; ErrNotFound when it does not exist.
func (t *tx) UpdateThingGroup(ctx context.Context, g *registry.ThingGroup) error {
	args, err := thingGroupArgs(g)
	if err != nil {
		return fmt.Errorf("update thing group %q: %w", g.Name, err)
	}
	return t.execOne(ctx, fmt.Sprintf("update thing group %q", g.Name), `
		UPDATE thing_groups SET id = $2, parent_name = $3, description = $4, attributes = $5,
			version = $6, created_at = $7
		WHERE name = $1`, args...)
}

// DeleteThingGroup deletes a thing group, but not its members or children;
// ErrNotFound when it does not exist.
func (t *tx) DeleteThingGroup(ctx context.Context, name string) error {
	return t.execOne(ctx, fmt.Sprintf("delete thing group %q", name),
		`DELETE FROM thing_groups WHERE name = $1`, name)
}

// ListThingGroups lists thing groups by name.
func (t *tx) ListThingGroups(ctx context.Context, f registry.ThingGroupFilter, p registry.Page) ([]registry.ThingGroup, error) {
	var s stmt
	if f.ParentName != "" {
		s.where("parent_name = " + s.arg(f.ParentName))
	}
	if f.RootOnly {
		s.where("parent_name = ''")
	}
	if f.NamePrefix != "" {
		s.where(s.prefix("name", f.NamePrefix))
	}
	s.after("name", p, false)
	q := s.build(`SELECT `+thingGroupColumns+` FROM thing_groups`, `ORDER BY name`, p.Limit)
	return queryAll(ctx, t, "list thing groups", q, s.args, scanThingGroup)
}

// AddThingToGroup makes thing a member of group; no error if it is one.
func (t *tx) AddThingToGroup(ctx context.Context, group, thing string, now time.Time) error {
	if _, err := t.exec(ctx, `
		INSERT INTO thing_group_members (group_name, thing_name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (group_name, thing_name) DO NOTHING`, group, thing, millis(now)); err != nil {
		return fmt.Errorf("add thing %q to group %q: %w", thing, group, err)
	}
	return nil
}

// RemoveThingFromGroup ends thing's membership of group; no error if it was
// not a member.
func (t *tx) RemoveThingFromGroup(ctx context.Context, group, thing string) error {
	if _, err := t.exec(ctx, `DELETE FROM thing_group_members WHERE group_name = $1 AND thing_name = $2`,
		group, thing); err != nil {
		return fmt.Errorf("remove thing %q from group %q: %w", thing, group, err)
	}
	return nil
}

// ListThingsInGroup lists the names of a group's members, in order.
func (t *tx) ListThingsInGroup(ctx context.Context, group string, p registry.Page) ([]string, error) {
	var s stmt
	s.where("group_name = " + s.arg(group))
	s.after("thing_name", p, false)
	q := s.build(`SELECT thing_name FROM thing_group_members`, `ORDER BY thing_name`, p.Limit)
	return t.queryStrings(ctx, fmt.Sprintf("list things in group %q", group), q, s.args...)
}

// ListGroupsOfThing lists the names of the groups a thing belongs to, in order.
func (t *tx) ListGroupsOfThing(ctx context.Context, thing string, p registry.Page) ([]string, error) {
	var s stmt
	s.where("thing_name = " + s.arg(thing))
	s.after("group_name", p, false)
	q := s.build(`SELECT group_name FROM thing_group_members`, `ORDER BY group_name`, p.Limit)
	return t.queryStrings(ctx, fmt.Sprintf("list groups of thing %q", thing), q, s.args...)
}
