package registry

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// BillingGroup is a billing group: a flat, named set of things, which AWS
// uses to allocate costs. A thing is in at most one billing group, so
// membership is the thing's BillingGroupName.
type BillingGroup struct {
	Name        string
	ID          string
	Description string
	Version     int64 // starts at 1, incremented by every update
	CreatedAt   time.Time
}

// BillingGroupTx stores billing groups, ordered by name, and the billing
// group of each thing (Thing.BillingGroupName).
type BillingGroupTx interface {
	BillingGroup(ctx context.Context, name string) (*BillingGroup, error)
	InsertBillingGroup(ctx context.Context, g *BillingGroup) error
	UpdateBillingGroup(ctx context.Context, g *BillingGroup) error
	DeleteBillingGroup(ctx context.Context, name string) error // but not its things' membership
	ListBillingGroups(ctx context.Context, namePrefix string, p Page) ([]BillingGroup, error)
	// SetThingBillingGroup sets a thing's BillingGroupName ("" for none)
	// and nothing else; ErrNotFound when the thing does not exist.
	SetThingBillingGroup(ctx context.Context, thing, group string) error
	ListThingsInBillingGroup(ctx context.Context, group string, p Page) ([]string, error) // thing names
}

// BillingGroupNameRule is the model's BillingGroupName.
var BillingGroupNameRule = iot.NameRule{What: "billingGroupName", Min: 1, Max: 128, Pattern: regexp.MustCompile(`^[a-zA-Z0-9:_-]+$`)}

// billingGroupDescriptionRule is the model's BillingGroupDescription.
var billingGroupDescriptionRule = iot.NameRule{What: "billingGroupDescription", Min: 0, Max: 2028, Pattern: iot.DescriptionRule.Pattern}

// BillingGroupARN returns the ARN of a billing group.
func BillingGroupARN(acct iot.Account, name string) string { return acct.ARN("billinggroup/" + name) }

// CreateBillingGroup creates a billing group. Creating one again with the
// same description returns the existing group; with another description it
// is a conflict (the model's documentation of CreateBillingGroup). The tags
// of a repeated create are ignored, as for thing groups.
func (s *Service) CreateBillingGroup(ctx context.Context, g BillingGroup, tags []iot.Tag) (*BillingGroup, error) {
	if err := BillingGroupNameRule.Check(g.Name); err != nil {
		return nil, err
	}
	if err := billingGroupDescriptionRule.Check(g.Description); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(tags); err != nil {
		return nil, err
	}
	var out *BillingGroup
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if existing, err := tx.BillingGroup(ctx, g.Name); err == nil {
			if existing.Description == g.Description {
				out = existing
				return nil
			}
			return iot.AlreadyExists("billing group", g.Name, existing.ID, BillingGroupARN(s.Account, g.Name))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		g.ID = newID()
		g.Version = 1
		g.CreatedAt = c.now
		if err := tx.InsertBillingGroup(ctx, &g); err != nil {
			return err
		}
		out = &g
		return tx.PutTags(ctx, BillingGroupARN(s.Account, g.Name), tags)
	})
	return out, err
}

// BillingGroup describes a billing group.
func (s *Service) BillingGroup(ctx context.Context, name string) (*BillingGroup, error) {
	if err := BillingGroupNameRule.Check(name); err != nil {
		return nil, err
	}
	var g *BillingGroup
	err := s.view(ctx, func(tx Tx) error {
		var err error
		g, err = tx.BillingGroup(ctx, name)
		return notFound(err, "billing group", name)
	})
	return g, err
}

// UpdateBillingGroup replaces a billing group's description and returns its
// new version. With expectedVersion, a group at another version is a
// VersionConflictException.
func (s *Service) UpdateBillingGroup(ctx context.Context, name, description string, expectedVersion *int64) (int64, error) {
	if err := BillingGroupNameRule.Check(name); err != nil {
		return 0, err
	}
	if err := billingGroupDescriptionRule.Check(description); err != nil {
		return 0, err
	}
	var version int64
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		g, err := tx.BillingGroup(ctx, name)
		if err != nil {
			return notFound(err, "billing group", name)
		}
		if expectedVersion != nil && *expectedVersion != g.Version {
			return iot.Errorf(iot.VersionConflict, "the billing group %s is at version %d, not the expected %d", name, g.Version, *expectedVersion)
		}
		g.Description = description
		g.Version++
		version = g.Version
		return tx.UpdateBillingGroup(ctx, g)
	})
	return version, err
}

// ListBillingGroups lists billing groups by name, those starting with
// prefix when it is not empty.
func (s *Service) ListBillingGroups(ctx context.Context, prefix string, pr PageRequest) ([]BillingGroup, string, error) {
	if prefix != "" {
		if err := BillingGroupNameRule.Check(prefix); err != nil {
			return nil, "", err
		}
	}
	return listPage(ctx, s, pr, func(g BillingGroup) string { return g.Name }, func(tx Tx, p Page) ([]BillingGroup, error) {
		return tx.ListBillingGroups(ctx, prefix, p)
	})
}

// DeleteBillingGroup deletes a billing group and its tags; its things leave
// it. AWS deletes a billing group that holds things (the aws CLI's example
// of delete-billing-group says so), and deleting one that does not exist
// succeeds: the model gives DeleteBillingGroup no ResourceNotFoundException.
func (s *Service) DeleteBillingGroup(ctx context.Context, name string, expectedVersion *int64) error {
	if err := BillingGroupNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		g, err := tx.BillingGroup(ctx, name)
		if errors.Is(err, ErrNotFound) {
			c.touchesNoPrincipal()
			return nil
		} else if err != nil {
			return err
		}
		if expectedVersion != nil && *expectedVersion != g.Version {
			return iot.Errorf(iot.VersionConflict, "the billing group %s is at version %d, not the expected %d", name, g.Version, *expectedVersion)
		}
		for {
			members, err := tx.ListThingsInBillingGroup(ctx, name, Page{Limit: 500})
			if err != nil {
				return err
			}
			if len(members) == 0 {
				break
			}
			for _, m := range members {
				if err := tx.SetThingBillingGroup(ctx, m, ""); err != nil {
					return err
				}
				c.emit(ThingChanged, m)
			}
		}
		if err := tx.DeleteBillingGroup(ctx, name); err != nil {
			return err
		}
		return tx.DeleteAllTags(ctx, BillingGroupARN(s.Account, name))
	})
}

// BillingGroupMembership names a billing group and a thing, each by name or
// by ARN.
type BillingGroupMembership struct {
	GroupName, GroupARN string
	ThingName, ThingARN string
}

func (m BillingGroupMembership) resolve() (group, thing string, err error) {
	group, err = nameFrom(m.GroupName, m.GroupARN, "billinggroup", "billingGroupName", BillingGroupNameRule)
	if err != nil {
		return "", "", err
	}
	thing, err = nameFrom(m.ThingName, m.ThingARN, "thing", "thingName", iot.ThingNameRule)
	return group, thing, err
}

// AddThingToBillingGroup puts a thing in a billing group. A thing is in at
// most one billing group: DescribeThing returns "the billing group the
// thing belongs to, if any" (AWS IoT developer guide, "Billing groups"),
// one name. Adding it to another moves it there (our reading,
// docs/aws-differences.md).
func (s *Service) AddThingToBillingGroup(ctx context.Context, m BillingGroupMembership) error {
	group, thing, err := m.resolve()
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error { return s.addThingToBillingGroup(ctx, tx, c, group, thing) })
}

func (s *Service) addThingToBillingGroup(ctx context.Context, tx Tx, c *change, group, thing string) error {
	if _, err := tx.BillingGroup(ctx, group); err != nil {
		return notFound(err, "billing group", group)
	}
	t, err := tx.Thing(ctx, thing)
	if err != nil {
		return notFound(err, "thing", thing)
	}
	if t.BillingGroupName == group {
		c.touchesNoPrincipal()
		return nil
	}
	c.emit(ThingChanged, thing)
	return tx.SetThingBillingGroup(ctx, thing, group)
}

// RemoveThingFromBillingGroup takes a thing out of a billing group. A thing
// that is not in that group is left as it is, without an error.
func (s *Service) RemoveThingFromBillingGroup(ctx context.Context, m BillingGroupMembership) error {
	group, thing, err := m.resolve()
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.BillingGroup(ctx, group); err != nil {
			return notFound(err, "billing group", group)
		}
		t, err := tx.Thing(ctx, thing)
		if err != nil {
			return notFound(err, "thing", thing)
		}
		if t.BillingGroupName != group {
			c.touchesNoPrincipal()
			return nil
		}
		c.emit(ThingChanged, thing)
		return tx.SetThingBillingGroup(ctx, thing, "")
	})
}

// ListThingsInBillingGroup lists the names of a billing group's things.
func (s *Service) ListThingsInBillingGroup(ctx context.Context, group string, pr PageRequest) ([]string, string, error) {
	if err := BillingGroupNameRule.Check(group); err != nil {
		return nil, "", err
	}
	return listPage(ctx, s, pr, ident, func(tx Tx, p Page) ([]string, error) {
		if _, err := tx.BillingGroup(ctx, group); err != nil {
			return nil, notFound(err, "billing group", group)
		}
		return tx.ListThingsInBillingGroup(ctx, group, p)
	})
}
