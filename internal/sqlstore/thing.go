package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Things live in things; their attributes in thing_attributes, one row per
// attribute, so that ListThings filters on them in plain SQL.

const thingColumns = `t.name, t.id, t.type_name, t.version, t.billing_group_name, t.created_at`

// Thing returns the named thing.
func (t *tx) Thing(ctx context.Context, name string) (*registry.Thing, error) {
	var th registry.Thing
	var created int64
	if err := t.queryRow(ctx, fmt.Sprintf("thing %q", name),
		`SELECT `+thingColumns+` FROM things t WHERE t.name = $1`, []any{name},
		&th.Name, &th.ID, &th.TypeName, &th.Version, &th.BillingGroupName, &created); err != nil {
		return nil, err
	}
	th.CreatedAt = fromMillis(created)
	rows, err := t.queryContext(ctx, `SELECT name, value FROM thing_attributes WHERE thing_name = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("attributes of thing %q: %w", name, err)
	}
	defer rows.Close()
	th.Attributes = map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("attributes of thing %q: %w", name, err)
		}
		th.Attributes[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attributes of thing %q: %w", name, err)
	}
	return &th, nil
}

// InsertThing inserts a new thing; it fails if the name is taken.
func (t *tx) InsertThing(ctx context.Context, th *registry.Thing) error {
	if _, err := t.exec(ctx, `
		INSERT INTO things (name, id, type_name, version, billing_group_name, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		th.Name, th.ID, th.TypeName, th.Version, th.BillingGroupName, millis(th.CreatedAt)); err != nil {
		return fmt.Errorf("insert thing %q: %w", th.Name, err)
	}
	return t.insertThingAttributes(ctx, th)
}

// UpdateThing overwrites a thing, attributes included; ErrNotFound when it
// does not exist.
func (t *tx) UpdateThing(ctx context.Context, th *registry.Thing) error {
	if err := t.execOne(ctx, fmt.Sprintf("update thing %q", th.Name), `
		UPDATE things SET id = $2, type_name = $3, version = $4, billing_group_name = $5, created_at = $6
		WHERE name = $1`,
		th.Name, th.ID, th.TypeName, th.Version, th.BillingGroupName, millis(th.CreatedAt)); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM thing_attributes WHERE thing_name = $1`, th.Name); err != nil {
		return fmt.Errorf("update thing %q: %w", th.Name, err)
	}
	return t.insertThingAttributes(ctx, th)
}

func (t *tx) insertThingAttributes(ctx context.Context, th *registry.Thing) error {
	for k, v := range th.Attributes {
		if _, err := t.exec(ctx, `INSERT INTO thing_attributes (thing_name, name, value) VALUES ($1, $2, $3)`,
			th.Name, k, v); err != nil {
			return fmt.Errorf("attribute %q of thing %q: %w", k, th.Name, err)
		}
	}
	return nil
}

// DeleteThing deletes a thing and its attributes, but not its principals or
// group memberships; ErrNotFound when it does not exist.
func (t *tx) DeleteThing(ctx context.Context, name string) error {
	if _, err := t.exec(ctx, `DELETE FROM thing_attributes WHERE thing_name = $1`, name); err != nil {
		return fmt.Errorf("delete thing %q: %w", name, err)
	}
	return t.execOne(ctx, fmt.Sprintf("delete thing %q", name), `DELETE FROM things WHERE name = $1`, name)
}

// ListThings lists things by name. An attribute filter applies when
// f.AttributeName is set: the value must equal f.AttributeValue, or start
// with it when f.ValuePrefix is set.
func (t *tx) ListThings(ctx context.Context, f registry.ThingFilter, p registry.Page) ([]registry.Thing, error) {
	var s stmt
	if f.NamePrefix != "" {
		s.where(s.keyPrefix("t.name", f.NamePrefix))
	}
	if f.TypeName != "" {
		s.where("t.type_name = " + s.arg(f.TypeName))
	}
	if f.AttributeName != "" {
		var cond string
		if f.ValuePrefix {
			cond = s.prefix("a.value", f.AttributeValue)
		} else {
			cond = "a.value = " + s.arg(f.AttributeValue)
		}
		s.where("EXISTS (SELECT 1 FROM thing_attributes a WHERE a.thing_name = t.name AND a.name = " +
			s.arg(f.AttributeName) + " AND " + cond + ")")
	}
	s.after("t.name", p, false)
	// The page of things, then their attributes, in one statement.
	page := s.build(`SELECT `+thingColumns+` FROM things t`, `ORDER BY t.name`, p.Limit)
	rows, err := t.queryContext(ctx, `
		SELECT `+thingColumns+`, a.name, a.value
		FROM (`+page+`) t LEFT JOIN thing_attributes a ON a.thing_name = t.name
		ORDER BY t.name, a.name`, s.args...)
	if err != nil {
		return nil, fmt.Errorf("list things: %w", err)
	}
	defer rows.Close()
	var out []registry.Thing
	for rows.Next() {
		var th registry.Thing
		var created int64
		var k, v sql.NullString
		if err := rows.Scan(&th.Name, &th.ID, &th.TypeName, &th.Version, &th.BillingGroupName, &created, &k, &v); err != nil {
			return nil, fmt.Errorf("list things: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].Name != th.Name {
			th.CreatedAt = fromMillis(created)
			th.Attributes = map[string]string{}
			out = append(out, th)
		}
		if k.Valid {
			out[len(out)-1].Attributes[k.String] = v.String
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list things: %w", err)
	}
	return out, nil
}

// CountThingsOfType counts the things of a type.
func (t *tx) CountThingsOfType(ctx context.Context, typeName string) (int, error) {
	return t.count(ctx, fmt.Sprintf("count things of type %q", typeName),
		`SELECT COUNT(*) FROM things WHERE type_name = $1`, typeName)
}
