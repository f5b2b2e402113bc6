package registry

import (
	"context"
	"errors"

	"github.com/iotcore/iotcore/internal/iot"
)

// MaxSearchableAttributes is how many searchable attributes a thing type
// may have (AWS).
const MaxSearchableAttributes = 3

// checkThingTypeProperties checks what a thing type's properties may hold.
func checkThingTypeProperties(description string, searchable []string) error {
	if err := iot.DescriptionRule.Check(description); err != nil {
		return err
	}
	if len(searchable) > MaxSearchableAttributes {
		return iot.Errorf(iot.InvalidRequest, "a thing type can have at most %d searchable attributes, got %d", MaxSearchableAttributes, len(searchable))
	}
	for _, a := range searchable {
		if err := iot.AttributeNameRule.Check(a); err != nil {
			return err
		}
	}
	return nil
}

// CreateThingType creates a thing type.
func (s *Service) CreateThingType(ctx context.Context, tt ThingType, tags []iot.Tag) (*ThingType, error) {
	if err := iot.ThingTypeNameRule.Check(tt.Name); err != nil {
		return nil, err
	}
	if err := checkThingTypeProperties(tt.Description, tt.SearchableAttributes); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(tags); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx Tx, c *change) error {
		if existing, err := tx.ThingType(ctx, tt.Name); err == nil {
			return iot.AlreadyExists("thing type", tt.Name, existing.ID, s.Account.ThingTypeARN(tt.Name))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		tt.ID = newID()
		tt.CreatedAt = c.now
		tt.Deprecated = false
		if err := tx.InsertThingType(ctx, &tt); err != nil {
			return err
		}
		return tx.PutTags(ctx, s.Account.ThingTypeARN(tt.Name), tags)
	})
	if err != nil {
		return nil, err
	}
	return &tt, nil
}

// ThingType describes a thing type.
func (s *Service) ThingType(ctx context.Context, name string) (*ThingType, error) {
	if err := iot.ThingTypeNameRule.Check(name); err != nil {
		return nil, err
	}
	var tt *ThingType
	err := s.view(ctx, func(tx Tx) error {
		var err error
		tt, err = tx.ThingType(ctx, name)
		return notFound(err, "thing type", name)
	})
	return tt, err
}

// ListThingTypes lists thing types by name; a name filters to that one type.
func (s *Service) ListThingTypes(ctx context.Context, name string, pr PageRequest) ([]ThingType, string, error) {
	if name != "" {
		if _, err := pr.page(); err != nil { // checked as for a listing
			return nil, "", err
		}
		tt, err := s.ThingType(ctx, name)
		if iot.IsCode(err, iot.ResourceNotFound) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		return []ThingType{*tt}, "", nil
	}
	return listPage(ctx, s, pr, func(t ThingType) string { return t.Name }, func(tx Tx, p Page) ([]ThingType, error) {
		return tx.ListThingTypes(ctx, p)
	})
}

// ThingTypeUpdate is what UpdateThingType changes: each property given
// (non-nil) replaces the type's, the others stay.
type ThingTypeUpdate struct {
	Description           *string
	SearchableAttributes  *[]string
	PropagatingAttributes *string // the mqtt5Configuration JSON, verbatim
}

// UpdateThingType changes the properties of a thing type, deprecated or
// not (AWS uncertain: its reference says only "Updates a thing type"; this
// reads the PATCH as replacing the properties the request names).
func (s *Service) UpdateThingType(ctx context.Context, name string, u ThingTypeUpdate) error {
	if err := iot.ThingTypeNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		tt, err := tx.ThingType(ctx, name)
		if err != nil {
			return notFound(err, "thing type", name)
		}
		if u.Description != nil {
			tt.Description = *u.Description
		}
		if u.SearchableAttributes != nil {
			tt.SearchableAttributes = *u.SearchableAttributes
		}
		if u.PropagatingAttributes != nil {
			tt.PropagatingAttributes = *u.PropagatingAttributes
		}
		if err := checkThingTypeProperties(tt.Description, tt.SearchableAttributes); err != nil {
			return err
		}
		return tx.UpdateThingType(ctx, tt)
	})
}

// DeprecateThingType deprecates a thing type, or undoes that.
func (s *Service) DeprecateThingType(ctx context.Context, name string, undo bool) error {
	if err := iot.ThingTypeNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		tt, err := tx.ThingType(ctx, name)
		if err != nil {
			return notFound(err, "thing type", name)
		}
		tt.Deprecated = !undo
		tt.DeprecatedAt = c.now
		return tx.UpdateThingType(ctx, tt)
	})
}

// DeleteThingType deletes a deprecated thing type that no thing uses.
func (s *Service) DeleteThingType(ctx context.Context, name string) error {
	if err := iot.ThingTypeNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		tt, err := tx.ThingType(ctx, name)
		if err != nil {
			return notFound(err, "thing type", name)
		}
		if !tt.Deprecated {
			return iot.Errorf(iot.InvalidRequest, "the thing type %s must be deprecated before it is deleted", name)
		}
		n, err := tx.CountThingsOfType(ctx, name)
		if err != nil {
			return err
		}
		if n > 0 {
			return iot.Errorf(iot.InvalidRequest, "the thing type %s is still used by %d things", name, n)
		}
		if err := tx.DeleteThingType(ctx, name); err != nil {
			return err
		}
		return tx.DeleteAllTags(ctx, s.Account.ThingTypeARN(name))
	})
}
