package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Setting returns an account setting's value; ErrNotFound when it was never
// set.
func (t *tx) Setting(ctx context.Context, name string) (string, error) {
	var value string
	err := t.queryRow(ctx, fmt.Sprintf("setting %q", name),
		`SELECT value FROM account_settings WHERE name = $1`, []any{name}, &value)
	return value, err
}

// PutSetting sets an account setting, replacing its value.
func (t *tx) PutSetting(ctx context.Context, name, value string, now time.Time) error {
	_, err := t.exec(ctx, `
		INSERT INTO account_settings (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, millis(now))
	if err != nil {
		return fmt.Errorf("put setting %q: %w", name, err)
	}
	return nil
}
