package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// RegistrationCode returns the account's CA registration code.
func (t *tx) RegistrationCode(ctx context.Context, account string) (string, error) {
	var code string
	err := t.queryRow(ctx, fmt.Sprintf("registration code of %q", account),
		`SELECT code FROM registration_codes WHERE account = $1`, []any{account}, &code)
	return code, err
}

// PutRegistrationCode sets the account's registration code, replacing any.
func (t *tx) PutRegistrationCode(ctx context.Context, account, code string, now time.Time) error {
	_, err := t.exec(ctx, `
		INSERT INTO registration_codes (account, code, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (account) DO UPDATE SET code = excluded.code, created_at = excluded.created_at`,
		account, code, millis(now))
	if err != nil {
		return fmt.Errorf("put registration code of %q: %w", account, err)
	}
	return nil
}

// DeleteRegistrationCode deletes the account's registration code; ErrNotFound
// when it has none.
func (t *tx) DeleteRegistrationCode(ctx context.Context, account string) error {
	return t.execOne(ctx, fmt.Sprintf("delete registration code of %q", account),
		`DELETE FROM registration_codes WHERE account = $1`, account)
}
