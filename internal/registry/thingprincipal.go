package registry

import (
	"context"
	"errors"

	"github.com/iotcore/iotcore/internal/iot"
)

// checkPrincipal verifies that a principal (a certificate ARN) exists.
func (s *Service) checkPrincipal(ctx context.Context, tx Tx, principal string) error {
	if principal == "" {
		return iot.Errorf(iot.InvalidRequest, "principal is required")
	}
	arn, err := iot.ParseARN(principal)
	if err != nil {
		return iot.Errorf(iot.InvalidRequest, "principal %q is not a certificate ARN", principal)
	}
	if arn.Type != "cert" {
		return iot.Errorf(iot.InvalidRequest, "principal %q is not a certificate ARN", principal)
	}
	if _, err := tx.Certificate(ctx, arn.Name); err != nil {
		return notFound(err, "certificate", arn.Name)
	}
	return nil
}

// AttachThingPrincipal links a principal to a thing. EXCLUSIVE_THING makes the
// thing the only one the principal may be attached to.
func (s *Service) AttachThingPrincipal(ctx context.Context, thing, principal, typ string) error {
	if err := iot.ThingNameRule.Check(thing); err != nil {
		return err
	}
	switch typ {
	case "":
		typ = iot.NonExclusiveThing
	case iot.ExclusiveThing, iot.NonExclusiveThing:
	default:
		return iot.Errorf(iot.InvalidRequest, "thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING, got %q", typ)
	}
	return s.update(ctx, func(tx Tx, c *change) error { return s.attachThingPrincipal(ctx, tx, c, thing, principal, typ) })
}

func (s *Service) attachThingPrincipal(ctx context.Context, tx Tx, c *change, thing, principal, typ string) error {
	if _, err := tx.Thing(ctx, thing); err != nil {
		return notFound(err, "thing", thing)
	}
	if err := s.checkPrincipal(ctx, tx, principal); err != nil {
		return err
	}
	links, err := tx.ListPrincipalThings(ctx, principal, Page{Limit: 2})
	if err != nil {
		return err
	}
	return s.linkThingPrincipal(ctx, tx, c, thing, principal, typ, links)
}

// linkThingPrincipal attaches principal to thing, both known to exist, given
// the principal's links (ListPrincipalThings, two at most).
func (s *Service) linkThingPrincipal(ctx context.Context, tx Tx, c *change, thing, principal, typ string, links []ThingPrincipal) error {
	for _, l := range links {
		if l.ThingName == thing {
			continue
		}
		if typ == iot.ExclusiveThing || l.Type == iot.ExclusiveThing {
			return iot.Errorf(iot.InvalidRequest, "the principal is exclusively attached to the thing %s", l.ThingName)
		}
	}
	c.emit(ThingChanged, thing)
	return tx.AttachThingPrincipal(ctx, &ThingPrincipal{ThingName: thing, Principal: principal, Type: typ, CreatedAt: c.now})
}

// DetachThingPrincipal removes the link between a principal and a thing.
func (s *Service) DetachThingPrincipal(ctx context.Context, thing, principal string) error {
	if err := iot.ThingNameRule.Check(thing); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.Thing(ctx, thing); err != nil {
			return notFound(err, "thing", thing)
		}
		if err := s.checkPrincipal(ctx, tx, principal); err != nil {
			return err
		}
		if _, err := tx.ThingPrincipal(ctx, thing, principal); errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		c.emit(ThingChanged, thing)
		return tx.DetachThingPrincipal(ctx, thing, principal)
	})
}

// ListThingPrincipals lists the principals attached to a thing.
func (s *Service) ListThingPrincipals(ctx context.Context, thing, typ string, pr PageRequest) ([]ThingPrincipal, string, error) {
	if err := iot.ThingNameRule.Check(thing); err != nil {
		return nil, "", err
	}
	rows, next, err := listPage(ctx, s, pr, func(tp ThingPrincipal) string { return tp.Principal }, func(tx Tx, p Page) ([]ThingPrincipal, error) {
		if _, err := tx.Thing(ctx, thing); err != nil {
			return nil, notFound(err, "thing", thing)
		}
		return tx.ListThingPrincipals(ctx, thing, p)
	})
	return filterType(rows, typ), next, err
}

// ListPrincipalThings lists the things a principal is attached to.
func (s *Service) ListPrincipalThings(ctx context.Context, principal, typ string, pr PageRequest) ([]ThingPrincipal, string, error) {
	rows, next, err := listPage(ctx, s, pr, func(tp ThingPrincipal) string { return tp.ThingName }, func(tx Tx, p Page) ([]ThingPrincipal, error) {
		if err := s.checkPrincipal(ctx, tx, principal); err != nil {
			return nil, err
		}
		return tx.ListPrincipalThings(ctx, principal, p)
	})
	return filterType(rows, typ), next, err
}

func filterType(rows []ThingPrincipal, typ string) []ThingPrincipal {
	if typ == "" {
		return rows
	}
	out := rows[:0:0]
	for _, r := range rows {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}
