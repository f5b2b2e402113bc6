package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Thing types live in thing_types; the searchable attribute names are a JSON
// array, since nothing filters on them.

const thingTypeColumns = `name, id, description, searchable_attributes, propagating_attributes,
	deprecated, deprecated_at, created_at`

func scanThingType(sc scanner) (registry.ThingType, error) {
	var tt registry.ThingType
	var searchable string
	var deprecatedAt, created int64
	if err := sc.Scan(&tt.Name, &tt.ID, &tt.Description, &searchable, &tt.PropagatingAttributes,
		&tt.Deprecated, &deprecatedAt, &created); err != nil {
		return tt, err
	}
	tt.DeprecatedAt = fromMillis(deprecatedAt)
	tt.CreatedAt = fromMillis(created)
	if err := json.Unmarshal([]byte(searchable), &tt.SearchableAttributes); err != nil {
		return tt, fmt.Errorf("searchable attributes of thing type %q: %w", tt.Name, err)
	}
	if tt.SearchableAttributes == nil {
		tt.SearchableAttributes = []string{}
	}
	return tt, nil
}

func thingTypeArgs(tt *registry.ThingType) ([]any, error) {
	searchable := tt.SearchableAttributes
	if searchable == nil {
		searchable = []string{}
	}
	b, err := json.Marshal(searchable)
	if err != nil {
		return nil, err
	}
	return []any{tt.Name, tt.ID, tt.Description, string(b), tt.PropagatingAttributes,
		tt.Deprecated, millis(tt.DeprecatedAt), millis(tt.CreatedAt)}, nil
}

// ThingType returns the named thing type.
func (t *tx) ThingType(ctx context.Context, name string) (*registry.ThingType, error) {
	return queryOne(ctx, t, fmt.Sprintf("thing type %q", name),
		`SELECT `+thingTypeColumns+` FROM thing_types WHERE name = $1`, []any{name}, scanThingType)
}

// InsertThingType inserts a new thing type; it fails if the name is taken.
func (t *tx) InsertThingType(ctx context.Context, tt *registry.ThingType) error {
	args, err := thingTypeArgs(tt)
	if err != nil {
		return fmt.Errorf("insert thing type %q: %w", tt.Name, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO thing_types (`+thingTypeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, args...); err != nil {
		return fmt.Errorf("insert thing type %q: %w", tt.Name, err)
	}
	return nil
}

// UpdateThingType overwrites a thing type; ErrNotFound when it does not exist.
func (t *tx) UpdateThingType(ctx context.Context, tt *registry.ThingType) error {
	args, err := thingTypeArgs(tt)
	if err != nil {
		return fmt.Errorf("update thing type %q: %w", tt.Name, err)
	}
	return t.execOne(ctx, fmt.Sprintf("update thing type %q", tt.Name), `
		UPDATE thing_types SET id = $2, description = $3, searchable_attributes = $4,
			propagating_attributes = $5, deprecated = $6, deprecated_at = $7, created_at = $8
		WHERE name = $1`, args...)
}

// DeleteThingType deletes a thing type; ErrNotFound when it does not exist.
func (t *tx) DeleteThingType(ctx context.Context, name string) error {
	return t.execOne(ctx, fmt.Sprintf("delete thing type %q", name),
		`DELETE FROM thing_types WHERE name = $1`, name)
}

// ListThingTypes lists thing types by name.
func (t *tx) ListThingTypes(ctx context.Context, p registry.Page) ([]registry.ThingType, error) {
	var s stmt
	s.after("name", p, false)
	q := s.build(`SELECT `+thingTypeColumns+` FROM thing_types`, `ORDER BY name`, p.Limit)
	return queryAll(ctx, t, "list thing types", q, s.args, scanThingType)
}
