package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Shadow returns a thing's shadow (name "" for the classic one).
func (t *tx) Shadow(ctx context.Context, thing, name string) (*registry.StoredShadow, error) {
	s := registry.StoredShadow{ThingName: thing, ShadowName: name}
	var doc string
	var updated int64
	if err := t.queryRow(ctx, fmt.Sprintf("shadow %q of thing %q", name, thing),
		`SELECT document, version, updated_at FROM shadows WHERE thing_name = $1 AND shadow_name = $2`, []any{thing, name},
		&doc, &s.Version, &updated); err != nil {
		return nil, err
	}
	s.Document, s.UpdatedAt = []byte(doc), fromMillis(updated)
	return &s, nil
}

// PutShadow stores a shadow, replacing the one of the same thing and name.
func (t *tx) PutShadow(ctx context.Context, s *registry.StoredShadow) error {
	if _, err := t.exec(ctx, `
		INSERT INTO shadows (thing_name, shadow_name, document, version, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (thing_name, shadow_name) DO UPDATE SET document = excluded.document, version = excluded.version, updated_at = excluded.updated_at`,
		s.ThingName, s.ShadowName, string(s.Document), s.Version, millis(s.UpdatedAt)); err != nil {
		return fmt.Errorf("put shadow %q of thing %q: %w", s.ShadowName, s.ThingName, err)
	}
	return nil
}

// DeleteShadow deletes a shadow; ErrNotFound when there is none.
func (t *tx) DeleteShadow(ctx context.Context, thing, name string) error {
	return t.execOne(ctx, fmt.Sprintf("delete shadow %q of thing %q", name, thing),
		`DELETE FROM shadows WHERE thing_name = $1 AND shadow_name = $2`, thing, name)
}

// ListNamedShadows lists the names of a thing's named shadows, in order.
func (t *tx) ListNamedShadows(ctx context.Context, thing string, p registry.Page) ([]string, error) {
	var s stmt
	s.where("thing_name = " + s.arg(thing))
	s.where("shadow_name <> ''")
	s.after("shadow_name", p, false)
	rows, err := t.queryContext(ctx, s.build(`SELECT shadow_name FROM shadows`, `ORDER BY shadow_name`, p.Limit), s.args...)
	if err != nil {
		return nil, fmt.Errorf("list named shadows of thing %q: %w", thing, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list named shadows of thing %q: %w", thing, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list named shadows of thing %q: %w", thing, err)
	}
	return out, nil
}

// AllShadows lists every shadow, by thing name then shadow name.
func (t *tx) AllShadows(ctx context.Context) ([]registry.StoredShadow, error) {
	rows, err := t.queryContext(ctx, `SELECT thing_name, shadow_name, document, version, updated_at FROM shadows ORDER BY thing_name, shadow_name`)
	if err != nil {
		return nil, fmt.Errorf("list shadows: %w", err)
	}
	defer rows.Close()
	var out []registry.StoredShadow
	for rows.Next() {
		var s registry.StoredShadow
		var doc string
		var updated int64
		if err := rows.Scan(&s.ThingName, &s.ShadowName, &doc, &s.Version, &updated); err != nil {
			return nil, fmt.Errorf("list shadows: %w", err)
		}
		s.Document, s.UpdatedAt = []byte(doc), fromMillis(updated)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list shadows: %w", err)
	}
	return out, nil
}
