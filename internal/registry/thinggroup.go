package registry

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/iotcore/iotcore/internal/iot"
)

// Thing-group limits (AWS).
const (
	MaxGroupDepth     = 7
	MaxGroupsPerThing = 10
)

// CreateThingGroup creates a static thing group, optionally under a parent.
// Creating an identical group again returns the existing one.
func (s *Service) CreateThingGroup(ctx context.Context, g ThingGroup, tags []iot.Tag) (*ThingGroup, error) {
	if err := iot.ThingGroupNameRule.Check(g.Name); err != nil {
		return nil, err
	}
	if g.ParentName != "" {
		if err := iot.ThingGroupNameRule.Check(g.ParentName); err != nil {
			return nil, err
		}
	}
	if err := iot.DescriptionRule.Check(g.Description); err != nil {
		return nil, err
	}
	if err := iot.CheckAttributes(g.Attributes); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(tags); err != nil {
		return nil, err
	}
	if g.Attributes == nil {
		g.Attributes = map[string]string{}
	}
	var out *ThingGroup
	err := s.update(ctx, func(tx Tx, c *change) error {
		if existing, err := tx.ThingGroup(ctx, g.Name); err == nil {
			if existing.ParentName == g.ParentName && existing.Description == g.Description && maps.Equal(existing.Attributes, g.Attributes) {
				out = existing
				return nil
			}
			return iot.AlreadyExists("thing group", g.Name, existing.ID, s.Account.ThingGroupARN(g.Name))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if g.ParentName != "" {
			chain, err := s.ancestors(ctx, tx, g.ParentName)
			if err != nil {
				return err
			}
			if len(chain)+1 > MaxGroupDepth {
				return iot.Errorf(iot.InvalidRequest, "thing groups can be nested at most %d deep", MaxGroupDepth)
			}
		}
		g.ID = newID()
		g.Version = 1
		g.CreatedAt = c.now
		if err := tx.InsertThingGroup(ctx, &g); err != nil {
			return err
		}
		out = &g
		return tx.PutTags(ctx, s.Account.ThingGroupARN(g.Name), tags)
	})
	return out, err
}

// ancestors returns the group and its ancestors, from the group up to the root.
func (s *Service) ancestors(ctx context.Context, tx Tx, name string) ([]ThingGroup, error) {
	var chain []ThingGroup
	for name != "" {
		g, err := tx.ThingGroup(ctx, name)
		if err != nil {
			return nil, notFound(err, "thing group", name)
		}
		chain = append(chain, *g)
		if len(chain) > MaxGroupDepth {
			break
		}
		name = g.ParentName
	}
	return chain, nil
}

// ThingGroupDescription is a group with its path from the root.
type ThingGroupDescription struct {
	ThingGroup
	RootToParent []string // group names from the root down to the parent
}

// ThingGroup describes a group.
func (s *Service) ThingGroup(ctx context.Context, name string) (*ThingGroupDescription, error) {
	if err := iot.ThingGroupNameRule.Check(name); err != nil {
		return nil, err
	}
	var out *ThingGroupDescription
	err := s.view(ctx, func(tx Tx) error {
		chain, err := s.ancestors(ctx, tx, name)
		if err != nil {
			return err
		}
		out = &ThingGroupDescription{ThingGroup: chain[0]}
		for i := len(chain) - 1; i >= 1; i-- {
			out.RootToParent = append(out.RootToParent, chain[i].Name)
		}
		return nil
	})
	return out, err
}

// UpdateThingGroup changes a group's description and attributes.
func (s *Service) UpdateThingGroup(ctx context.Context, name, description string, attrs map[string]string, merge bool, expectedVersion *int64) (int64, error) {
	if err := iot.ThingGroupNameRule.Check(name); err != nil {
		return 0, err
	}
	if err := iot.DescriptionRule.Check(description); err != nil {
		return 0, err
	}
	if err := iot.CheckAttributes(attrs); err != nil {
		return 0, err
	}
	var version int64
	err := s.update(ctx, func(tx Tx, c *change) error {
		g, err := tx.ThingGroup(ctx, name)
		if err != nil {
			return notFound(err, "thing group", name)
		}
		if expectedVersion != nil && *expectedVersion != g.Version {
			return iot.Errorf(iot.VersionConflict, "the thing group %s is at version %d, not the expected %d", name, g.Version, *expectedVersion)
		}
		g.Description = description
		if attrs != nil {
			g.Attributes = applyAttributes(g.Attributes, attrs, merge)
		}
		g.Version++
		version = g.Version
		return tx.UpdateThingGroup(ctx, g)
	})
	return version, err
}

// ListThingGroups lists groups by name.
func (s *Service) ListThingGroups(ctx context.Context, parent, prefix string, recursive bool, pr PageRequest) ([]ThingGroup, string, error) {
	return listPage(ctx, s, pr, func(g ThingGroup) string { return g.Name }, func(tx Tx, p Page) ([]ThingGroup, error) {
		var rows []ThingGroup
		if parent != "" {
			if _, err := tx.ThingGroup(ctx, parent); err != nil {
				return nil, notFound(err, "thing group", parent)
			}
		}
		if !recursive || parent == "" {
			// Without a parent every group is listed; with a parent and
			// recursive false, only its direct children.
			return tx.ListThingGroups(ctx, ThingGroupFilter{ParentName: parent, NamePrefix: prefix}, p)
		}
		all, err := s.descendants(ctx, tx, parent)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(all))
		byName := map[string]ThingGroup{}
		for _, g := range all {
			if prefix == "" || len(g.Name) >= len(prefix) && g.Name[:len(prefix)] == prefix {
				names = append(names, g.Name)
				byName[g.Name] = g
			}
		}
		sortStrings(names)
		for _, n := range after(names, p) {
			rows = append(rows, byName[n])
		}
		return rows, nil
	})
}

// descendants returns every group below name.
func (s *Service) descendants(ctx context.Context, tx Tx, name string) ([]ThingGroup, error) {
	var out []ThingGroup
	queue := []string{name}
	for depth := 0; len(queue) > 0 && depth <= MaxGroupDepth; depth++ {
		var next []string
		for _, parent := range queue {
			children, err := tx.ListThingGroups(ctx, ThingGroupFilter{ParentName: parent}, Page{})
			if err != nil {
				return nil, err
			}
			for _, c := range children {
				out = append(out, c)
				next = append(next, c.Name)
			}
		}
		queue = next
	}
	return out, nil
}

// DeleteThingGroup deletes a group without children. Deleting a missing group succeeds.
func (s *Service) DeleteThingGroup(ctx context.Context, name string, expectedVersion *int64) error {
	if err := iot.ThingGroupNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		g, err := tx.ThingGroup(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if expectedVersion != nil && *expectedVersion != g.Version {
			return iot.Errorf(iot.VersionConflict, "the thing group %s is at version %d, not the expected %d", name, g.Version, *expectedVersion)
		}
		children, err := tx.ListThingGroups(ctx, ThingGroupFilter{ParentName: name}, Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(children) > 0 {
			return iot.Errorf(iot.InvalidRequest, "the thing group %s has child groups (%s): delete them first", name, children[0].Name)
		}
		arn := s.Account.ThingGroupARN(name)
		for {
			members, err := tx.ListThingsInGroup(ctx, name, Page{Limit: 500})
			if err != nil {
				return err
			}
			if len(members) == 0 {
				break
			}
			for _, m := range members {
				if err := tx.RemoveThingFromGroup(ctx, name, m); err != nil {
					return err
				}
			}
		}
		policies, err := tx.ListTargetPolicies(ctx, arn, Page{Limit: MaxPoliciesPerTarget + 1})
		if err != nil {
			return err
		}
		for _, p := range policies {
			if err := tx.DetachPolicy(ctx, p, arn); err != nil {
				return err
			}
		}
		if err := tx.DeleteThingGroup(ctx, name); err != nil {
			return err
		}
		c.emit(AttachmentsChanged, arn)
		return tx.DeleteAllTags(ctx, arn)
	})
}

// GroupMembership names a group and a thing, by name or ARN.
type GroupMembership struct {
	GroupName, GroupARN string
	ThingName, ThingARN string
}

func (m GroupMembership) resolve() (group, thing string, err error) {
	group, err = nameFrom(m.GroupName, m.GroupARN, "thinggroup", "thingGroupName", iot.ThingGroupNameRule)
	if err != nil {
		return "", "", err
	}
	thing, err = nameFrom(m.ThingName, m.ThingARN, "thing", "thingName", iot.ThingNameRule)
	return group, thing, err
}

// nameFrom takes a resource name given either directly or as an ARN.
func nameFrom(name, arn, typ, field string, rule iot.NameRule) (string, error) {
	if name == "" && arn != "" {
		a, err := iot.ParseARN(arn)
		if err != nil || a.Type != typ {
			return "", iot.Errorf(iot.InvalidRequest, "%q is not a %s ARN", arn, typ)
		}
		name = a.Name
	}
	if name == "" {
		return "", iot.Errorf(iot.InvalidRequest, "%s or its ARN is required", field)
	}
	return name, rule.Check(name)
}

// AddThingToThingGroup adds a thing to a static group.
func (s *Service) AddThingToThingGroup(ctx context.Context, m GroupMembership) error {
	group, thing, err := m.resolve()
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error { return s.addThingToGroup(ctx, tx, c, group, thing) })
}

func (s *Service) addThingToGroup(ctx context.Context, tx Tx, c *change, group, thing string) error {
	if _, err := tx.ThingGroup(ctx, group); err != nil {
		return notFound(err, "thing group", group)
	}
	if _, err := tx.Thing(ctx, thing); err != nil {
		return notFound(err, "thing", thing)
	}
	groups, err := tx.ListGroupsOfThing(ctx, thing, Page{Limit: MaxGroupsPerThing + 1})
	if err != nil {
		return err
	}
	if slices.Contains(groups, group) {
		return nil
	}
	return s.addToGroup(ctx, tx, c, group, thing, len(groups))
}

// addToGroup adds an existing thing, in inGroups groups but not in group,
// to group, which exists.
func (s *Service) addToGroup(ctx context.Context, tx Tx, c *change, group, thing string, inGroups int) error {
	if inGroups >= MaxGroupsPerThing {
		return iot.Errorf(iot.InvalidRequest, "the thing %s is already in the maximum of %d groups", thing, MaxGroupsPerThing)
	}
	c.emit(ThingChanged, thing)
	return tx.AddThingToGroup(ctx, group, thing, c.now)
}

// UpdateThingGroupsForThing adds a thing to some static groups and removes
// it from others, in one transaction: a group that does not exist fails
// the whole call, and the thing is never left in more than
// MaxGroupsPerThing groups. Removals come first, so that a thing at the
// limit can move from one group to another in one call.
func (s *Service) UpdateThingGroupsForThing(ctx context.Context, thing string, add, remove []string) error {
	if err := iot.ThingNameRule.Check(thing); err != nil {
		return err
	}
	for _, g := range append(slices.Clone(add), remove...) {
		if err := iot.ThingGroupNameRule.Check(g); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.Thing(ctx, thing); err != nil {
			return notFound(err, "thing", thing)
		}
		for _, g := range remove {
			if _, err := tx.ThingGroup(ctx, g); err != nil {
				return notFound(err, "thing group", g)
			}
			if err := tx.RemoveThingFromGroup(ctx, g, thing); err != nil {
				return err
			}
		}
		for _, g := range add {
			if err := s.addThingToGroup(ctx, tx, c, g, thing); err != nil {
				return err
			}
		}
		c.emit(ThingChanged, thing)
		return nil
	})
}

// RemoveThingFromThingGroup removes a thing from a static group.
func (s *Service) RemoveThingFromThingGroup(ctx context.Context, m GroupMembership) error {
	group, thing, err := m.resolve()
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.ThingGroup(ctx, group); err != nil {
			return notFound(err, "thing group", group)
		}
		if _, err := tx.Thing(ctx, thing); err != nil {
			return notFound(err, "thing", thing)
		}
		c.emit(ThingChanged, thing)
		return tx.RemoveThingFromGroup(ctx, group, thing)
	})
}

// ListThingsInThingGroup lists a group's things; recursive includes its descendants'.
func (s *Service) ListThingsInThingGroup(ctx context.Context, group string, recursive bool, pr PageRequest) ([]string, string, error) {
	if err := iot.ThingGroupNameRule.Check(group); err != nil {
		return nil, "", err
	}
	return listPage(ctx, s, pr, ident, func(tx Tx, p Page) ([]string, error) {
		var names []string
		if _, err := tx.ThingGroup(ctx, group); err != nil {
			return nil, notFound(err, "thing group", group)
		}
		if !recursive {
			return tx.ListThingsInGroup(ctx, group, p)
		}
		groups := []string{group}
		desc, err := s.descendants(ctx, tx, group)
		if err != nil {
			return nil, err
		}
		for _, d := range desc {
			groups = append(groups, d.Name)
		}
		seen := map[string]bool{}
		var all []string
		for _, g := range groups {
			members, err := tx.ListThingsInGroup(ctx, g, Page{})
			if err != nil {
				return nil, err
			}
			for _, m := range members {
				if !seen[m] {
					seen[m] = true
					all = append(all, m)
				}
			}
		}
		sortStrings(all)
		names = after(all, p)
		return names, nil
	})
}

// ListThingGroupsForThing lists the groups a thing belongs to.
func (s *Service) ListThingGroupsForThing(ctx context.Context, thing string, pr PageRequest) ([]string, string, error) {
	if err := iot.ThingNameRule.Check(thing); err != nil {
		return nil, "", err
	}
	return listPage(ctx, s, pr, ident, func(tx Tx, p Page) ([]string, error) {
		if _, err := tx.Thing(ctx, thing); err != nil {
			return nil, notFound(err, "thing", thing)
		}
		return tx.ListGroupsOfThing(ctx, thing, p)
	})
}
