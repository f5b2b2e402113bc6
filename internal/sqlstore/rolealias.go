package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Role aliases live in role_aliases, keyed by alias.

const roleAliasColumns = `alias, role_arn, credential_duration_seconds, created_at, updated_at`

func scanRoleAlias(sc scanner) (registry.RoleAlias, error) {
	var a registry.RoleAlias
	var created, updated int64
	if err := sc.Scan(&a.Alias, &a.RoleARN, &a.CredentialDurationSeconds, &created, &updated); err != nil {
		return a, err
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(created), fromMillis(updated)
	return a, nil
}

// RoleAlias returns the named role alias.
func (t *tx) RoleAlias(ctx context.Context, alias string) (*registry.RoleAlias, error) {
	return queryOne(ctx, t, fmt.Sprintf("role alias %q", alias),
		`SELECT `+roleAliasColumns+` FROM role_aliases WHERE alias = $1`, []any{alias}, scanRoleAlias)
}

// InsertRoleAlias inserts a new role alias; it fails if the alias is taken.
func (t *tx) InsertRoleAlias(ctx context.Context, a *registry.RoleAlias) error {
	if _, err := t.exec(ctx, `INSERT INTO role_aliases (`+roleAliasColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		a.Alias, a.RoleARN, a.CredentialDurationSeconds, millis(a.CreatedAt), millis(a.UpdatedAt)); err != nil {
		return fmt.Errorf("insert role alias %q: %w", a.Alias, err)
	}
	return nil
}

// UpdateRoleAlias overwrites a role alias; ErrNotFound when it does not exist.
func (t *tx) UpdateRoleAlias(ctx context.Context, a *registry.RoleAlias) error {
	return t.execOne(ctx, fmt.Sprintf("update role alias %q", a.Alias), `
		UPDATE role_aliases SET role_arn = $2, credential_duration_seconds = $3, created_at = $4, updated_at = $5
		WHERE alias = $1`, a.Alias, a.RoleARN, a.CredentialDurationSeconds, millis(a.CreatedAt), millis(a.UpdatedAt))
}

// DeleteRoleAlias deletes a role alias; ErrNotFound when it does not exist.
func (t *tx) DeleteRoleAlias(ctx context.Context, alias string) error {
	return t.execOne(ctx, fmt.Sprintf("delete role alias %q", alias),
		`DELETE FROM role_aliases WHERE alias = $1`, alias)
}

// ListRoleAliases lists role aliases by alias, ascending or descending.
func (t *tx) ListRoleAliases(ctx context.Context, ascending bool, p registry.Page) ([]registry.RoleAlias, error) {
	var s stmt
	s.after("alias", p, !ascending)
	orderBy := "ORDER BY alias DESC"
	if ascending {
		orderBy = "ORDER BY alias"
	}
	q := s.build(`SELECT `+roleAliasColumns+` FROM role_aliases`, orderBy, p.Limit)
	return queryAll(ctx, t, "list role aliases", q, s.args, scanRoleAlias)
}
