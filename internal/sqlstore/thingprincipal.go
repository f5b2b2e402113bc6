package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Thing–principal links live in thing_principals, indexed both ways.

const thingPrincipalColumns = `thing_name, principal, type, created_at`

func scanThingPrincipal(sc scanner) (registry.ThingPrincipal, error) {
	var tp registry.ThingPrincipal
	var created int64
	err := sc.Scan(&tp.ThingName, &tp.Principal, &tp.Type, &created)
	tp.CreatedAt = fromMillis(created)
	return tp, err
}

// AttachThingPrincipal links a thing and a principal. When they are linked
// already, only the link's type changes.
func (t *tx) AttachThingPrincipal(ctx context.Context, tp *registry.ThingPrincipal) error {
	if _, err := t.exec(ctx, `
		INSERT INTO thing_principals (`+thingPrincipalColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (thing_name, principal) DO UPDATE SET type = excluded.type`,
		tp.ThingName, tp.Principal, tp.Type, millis(tp.CreatedAt)); err != nil {
		return fmt.Errorf("attach %q to thing %q: %w", tp.Principal, tp.ThingName, err)
	}
	return nil
}

// DetachThingPrincipal unlinks a thing and a principal; no error if they are
// not linked.
func (t *tx) DetachThingPrincipal(ctx context.Context, thing, principal string) error {
	if _, err := t.exec(ctx, `DELETE FROM thing_principals WHERE thing_name = $1 AND principal = $2`,
		thing, principal); err != nil {
		return fmt.Errorf("detach %q from thing %q: %w", principal, thing, err)
	}
	return nil
}

// ThingPrincipal returns the link between a thing and a principal.
func (t *tx) ThingPrincipal(ctx context.Context, thing, principal string) (*registry.ThingPrincipal, error) {
	return queryOne(ctx, t, fmt.Sprintf("principal %q of thing %q", principal, thing),
		`SELECT `+thingPrincipalColumns+` FROM thing_principals WHERE thing_name = $1 AND principal = $2`,
		[]any{thing, principal}, scanThingPrincipal)
}

// ListThingPrincipals lists a thing's links, by principal.
func (t *tx) ListThingPrincipals(ctx context.Context, thing string, p registry.Page) ([]registry.ThingPrincipal, error) {
	var s stmt
	s.where("thing_name = " + s.arg(thing))
	s.after("principal", p, false)
	q := s.build(`SELECT `+thingPrincipalColumns+` FROM thing_principals`, `ORDER BY principal`, p.Limit)
	return queryAll(ctx, t, fmt.Sprintf("list principals of thing %q", thing), q, s.args, scanThingPrincipal)
}

// ListPrincipalThings lists a principal's links, by thing name.
func (t *tx) ListPrincipalThings(ctx context.Context, principal string, p registry.Page) ([]registry.ThingPrincipal, error) {
	var s stmt
	s.where("principal = " + s.arg(principal))
	s.after("thing_name", p, false)
	q := s.build(`SELECT `+thingPrincipalColumns+` FROM thing_principals`, `ORDER BY thing_name`, p.Limit)
	return queryAll(ctx, t, fmt.Sprintf("list things of %q", principal), q, s.args, scanThingPrincipal)
}
