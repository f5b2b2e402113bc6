package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
)

// RegistrationCode returns the account's registration code, creating it on
// first use; it stays the same until DeleteRegistrationCode (AWS behaviour).
func (s *Service) RegistrationCode(ctx context.Context) (string, error) {
	var code string
	err := s.view(ctx, func(tx Tx) error {
		var err error
		code, err = tx.RegistrationCode(ctx, s.Account.ID)
		return err
	})
	if err == nil {
		return code, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	err = s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		existing, err := tx.RegistrationCode(ctx, s.Account.ID)
		if err == nil { // created concurrently
			code = existing
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		code = hex.EncodeToString(b[:])
		return tx.PutRegistrationCode(ctx, s.Account.ID, code, c.now)
	})
	return code, err
}

// DeleteRegistrationCode forgets the registration code; the next
// RegistrationCode call makes a new one.
func (s *Service) DeleteRegistrationCode(ctx context.Context) error {
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if _, err := tx.RegistrationCode(ctx, s.Account.ID); err != nil {
			return notFound(err, "registration code for account", s.Account.ID)
		}
		return tx.DeleteRegistrationCode(ctx, s.Account.ID)
	})
}
