package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// Tags live in tags, keyed by resource ARN and tag key.

// PutTags sets each tag on a resource, overwriting the value of a key it has.
func (t *tx) PutTags(ctx context.Context, arn string, tags []iot.Tag) error {
	for _, tag := range tags {
		if _, err := t.exec(ctx, `
			INSERT INTO tags (arn, tag_key, tag_value) VALUES ($1, $2, $3)
			ON CONFLICT (arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
			arn, tag.Key, tag.Value); err != nil {
			return fmt.Errorf("put tag %q on %q: %w", tag.Key, arn, err)
		}
	}
	return nil
}

// DeleteTags removes the given keys from a resource; keys it lacks are ignored.
func (t *tx) DeleteTags(ctx context.Context, arn string, keys []string) error {
	for _, k := range keys {
		if _, err := t.exec(ctx, `DELETE FROM tags WHERE arn = $1 AND tag_key = $2`, arn, k); err != nil {
			return fmt.Errorf("delete tag %q of %q: %w", k, arn, err)
		}
	}
	return nil
}

// DeleteAllTags removes every tag of a resource.
func (t *tx) DeleteAllTags(ctx context.Context, arn string) error {
	if _, err := t.exec(ctx, `DELETE FROM tags WHERE arn = $1`, arn); err != nil {
		return fmt.Errorf("delete tags of %q: %w", arn, err)
	}
	return nil
}

// ListTags lists a resource's tags by key.
func (t *tx) ListTags(ctx context.Context, arn string, p registry.Page) ([]iot.Tag, error) {
	var s stmt
	s.where("arn = " + s.arg(arn))
	s.after("tag_key", p, false)
	q := s.build(`SELECT tag_key, tag_value FROM tags`, `ORDER BY tag_key`, p.Limit)
	return queryAll(ctx, t, fmt.Sprintf("list tags of %q", arn), q, s.args, func(sc scanner) (iot.Tag, error) {
		var tag iot.Tag
		err := sc.Scan(&tag.Key, &tag.Value)
		return tag, err
	})
}
