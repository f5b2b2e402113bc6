package registry

import (
	"context"
	"errors"
)

// Device shadows are addressed by thing name, as on AWS: a thing need not be
// in the registry to have one, and deleting a thing leaves its shadows
// (docs/aws-differences.md). Their documents are package shadow's; the
// registry keeps them and orders their changes.

// ShadowChange computes a shadow's next state from its current one (nil:
// there is none): the shadow to store, or remove true to delete it. It may
// run more than once (a store retries conflicts), so it must have no other
// effect; its error comes back from ChangeShadow as is.
type ShadowChange func(cur *StoredShadow) (next *StoredShadow, remove bool, err error)

// ChangeShadow reads a shadow, computes its change and writes it, in one
// transaction: concurrent changes of one shadow apply one after the other,
// each to the state the previous left.
func (s *Service) ChangeShadow(ctx context.Context, thing, name string, apply ShadowChange) error {
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		cur, err := tx.Shadow(ctx, thing, name)
		switch {
		case errors.Is(err, ErrNotFound):
			cur = nil
		case err != nil:
			return err
		}
		next, remove, err := apply(cur)
		switch {
		case err != nil:
			return err
		case remove && cur != nil:
			c.emit(ShadowChanged, thing)
			return tx.DeleteShadow(ctx, thing, name)
		case remove:
			return nil
		case next == nil:
			return nil // nothing to write (a rejected request)
		}
		next.ThingName, next.ShadowName, next.UpdatedAt = thing, name, c.now
		c.emit(ShadowChanged, thing)
		return tx.PutShadow(ctx, next)
	})
}

// Shadow returns a thing's shadow, or nil when it has none.
func (s *Service) Shadow(ctx context.Context, thing, name string) (*StoredShadow, error) {
	var out *StoredShadow
	err := s.view(ctx, func(tx Tx) error {
		sh, err := tx.Shadow(ctx, thing, name)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		out = sh
		return err
	})
	return out, err
}

// ListNamedShadows lists the names of a thing's named shadows, one page.
func (s *Service) ListNamedShadows(ctx context.Context, thing string, pr PageRequest) ([]string, string, error) {
	return listPage(ctx, s, pr, ident, func(tx Tx, p Page) ([]string, error) {
		return tx.ListNamedShadows(ctx, thing, p)
	})
}
