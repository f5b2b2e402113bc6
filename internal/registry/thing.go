package registry

import (
	"context"
	"errors"
	"maps"

	"github.com/iotcore/iotcore/internal/iot"
)

// MaxThingAttributes is the number of attributes a thing may carry.
const MaxThingAttributes = 50

// CreateThingInput is CreateThing's input.
type CreateThingInput struct {
	Name             string
	TypeName         string
	Attributes       map[string]string
	BillingGroupName string
}

// CreateThing creates a thing. Creating an identical thing again returns the
// existing one; a different one with the same name is a conflict (AWS).
func (s *Service) CreateThing(ctx context.Context, in CreateThingInput) (*Thing, error) {
	if err := s.checkThingInput(in); err != nil {
		return nil, err
	}
	var out *Thing
	err := s.update(ctx, func(tx Tx, c *change) error {
		var err error
		out, err = s.createThing(ctx, tx, c, in)
		return err
	})
	return out, err
}

func (s *Service) checkThingInput(in CreateThingInput) error {
	if err := iot.ThingNameRule.Check(in.Name); err != nil {
		return err
	}
	if in.TypeName != "" {
		if err := iot.ThingTypeNameRule.Check(in.TypeName); err != nil {
			return err
		}
	}
	if in.BillingGroupName != "" {
		if err := BillingGroupNameRule.Check(in.BillingGroupName); err != nil {
			return err
		}
	}
	if len(in.Attributes) > MaxThingAttributes {
		return iot.Errorf(iot.InvalidRequest, "a thing can have at most %d attributes, got %d", MaxThingAttributes, len(in.Attributes))
	}
	return iot.CheckAttributes(in.Attributes)
}

func (s *Service) createThing(ctx context.Context, tx Tx, c *change, in CreateThingInput) (*Thing, error) {
	if in.Attributes == nil {
		in.Attributes = map[string]string{}
	}
	if existing, err := tx.Thing(ctx, in.Name); err == nil {
		if existing.TypeName == in.TypeName && maps.Equal(existing.Attributes, in.Attributes) && existing.BillingGroupName == in.BillingGroupName {
			return existing, nil
		}
		return nil, iot.AlreadyExists("thing", in.Name, existing.ID, s.Account.ThingARN(in.Name))
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return s.insertThing(ctx, tx, c, in)
}

// insertThing creates a thing that does not exist: the caller has looked.
func (s *Service) insertThing(ctx context.Context, tx Tx, c *change, in CreateThingInput) (*Thing, error) {
	if in.Attributes == nil {
		in.Attributes = map[string]string{}
	}
	if in.TypeName != "" {
		if err := usableThingType(ctx, tx, in.TypeName); err != nil {
			return nil, err
		}
	}
	if in.BillingGroupName != "" {
		if _, err := tx.BillingGroup(ctx, in.BillingGroupName); err != nil {
			return nil, notFound(err, "billing group", in.BillingGroupName)
		}
	}
	t := &Thing{Name: in.Name, ID: newID(), TypeName: in.TypeName, Attributes: in.Attributes, Version: 1,
		BillingGroupName: in.BillingGroupName, CreatedAt: c.now}
	c.emit(ThingChanged, t.Name)
	return t, tx.InsertThing(ctx, t)
}

// usableThingType checks that a thing type exists and is not deprecated.
func usableThingType(ctx context.Context, tx Tx, name string) error {
	tt, err := tx.ThingType(ctx, name)
	if err != nil {
		return notFound(err, "thing type", name)
	}
	if tt.Deprecated {
		return iot.Errorf(iot.InvalidRequest, "the thing type %s is deprecated: things cannot be given it", name)
	}
	return nil
}

// Thing describes a thing.
func (s *Service) Thing(ctx context.Context, name string) (*Thing, error) {
	if err := iot.ThingNameRule.Check(name); err != nil {
		return nil, err
	}
	var t *Thing
	err := s.view(ctx, func(tx Tx) error {
		var err error
		t, err = tx.Thing(ctx, name)
		return notFound(err, "thing", name)
	})
	return t, err
}

// ListThings lists things by name, filtered by type and attribute.
func (s *Service) ListThings(ctx context.Context, f ThingFilter, pr PageRequest) ([]Thing, string, error) {
	if f.TypeName != "" {
		if err := iot.ThingTypeNameRule.Check(f.TypeName); err != nil {
			return nil, "", err
		}
	}
	if f.AttributeName != "" {
		if err := iot.AttributeNameRule.Check(f.AttributeName); err != nil {
			return nil, "", err
		}
	} else if f.AttributeValue != "" {
		return nil, "", iot.Errorf(iot.InvalidRequest, "attributeValue needs attributeName")
	}
	return listPage(ctx, s, pr, func(t Thing) string { return t.Name }, func(tx Tx, p Page) ([]Thing, error) {
		return tx.ListThings(ctx, f, p)
	})
}

// UpdateThingInput is UpdateThing's input.
type UpdateThingInput struct {
	Name            string
	TypeName        string
	RemoveThingType bool
	Attributes      map[string]string // nil leaves attributes alone
	Merge           bool              // merge Attributes; an empty value removes one
	ExpectedVersion *int64
}

// UpdateThing changes a thing's type or attributes and increments its version.
func (s *Service) UpdateThing(ctx context.Context, in UpdateThingInput) error {
	if err := iot.ThingNameRule.Check(in.Name); err != nil {
		return err
	}
	if in.TypeName != "" && in.RemoveThingType {
		return iot.Errorf(iot.InvalidRequest, "thingTypeName and removeThingType cannot be used together")
	}
	if in.TypeName != "" {
		if err := iot.ThingTypeNameRule.Check(in.TypeName); err != nil {
			return err
		}
	}
	if err := iot.CheckAttributes(in.Attributes); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		t, err := tx.Thing(ctx, in.Name)
		if err != nil {
			return notFound(err, "thing", in.Name)
		}
		if in.ExpectedVersion != nil && *in.ExpectedVersion != t.Version {
			return iot.Errorf(iot.VersionConflict, "the thing %s is at version %d, not the expected %d", in.Name, t.Version, *in.ExpectedVersion)
		}
		if in.TypeName != "" && in.TypeName != t.TypeName {
			if err := usableThingType(ctx, tx, in.TypeName); err != nil {
				return err
			}
			t.TypeName = in.TypeName
		}
		if in.RemoveThingType {
			t.TypeName = ""
		}
		if in.Attributes != nil {
			t.Attributes = applyAttributes(t.Attributes, in.Attributes, in.Merge)
			if len(t.Attributes) > MaxThingAttributes {
				return iot.Errorf(iot.InvalidRequest, "a thing can have at most %d attributes, got %d", MaxThingAttributes, len(t.Attributes))
			}
		}
		t.Version++
		c.emit(ThingChanged, t.Name)
		return tx.UpdateThing(ctx, t)
	})
}

// applyAttributes merges or replaces attributes; in a merge an empty value removes the key.
func applyAttributes(old, upd map[string]string, merge bool) map[string]string {
	out := map[string]string{}
	if merge {
		maps.Copy(out, old)
	}
	for k, v := range upd {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// DeleteThing deletes a thing. Deleting a thing that does not exist succeeds
// (AWS); a thing with attached principals cannot be deleted.
func (s *Service) DeleteThing(ctx context.Context, name string, expectedVersion *int64) error {
	if err := iot.ThingNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		t, err := tx.Thing(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if expectedVersion != nil && *expectedVersion != t.Version {
			return iot.Errorf(iot.VersionConflict, "the thing %s is at version %d, not the expected %d", name, t.Version, *expectedVersion)
		}
		principals, err := tx.ListThingPrincipals(ctx, name, Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(principals) > 0 {
			return iot.Errorf(iot.InvalidRequest, "the thing %s has principals attached (%s): detach them first", name, principals[0].Principal)
		}
		groups, err := tx.ListGroupsOfThing(ctx, name, Page{Limit: MaxGroupsPerThing + 1})
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := tx.RemoveThingFromGroup(ctx, g, name); err != nil {
				return err
			}
		}
		if err := tx.DeleteThing(ctx, name); err != nil {
			return err
		}
		c.emit(ThingChanged, name)
		return tx.DeleteAllTags(ctx, s.Account.ThingARN(name))
	})
}
