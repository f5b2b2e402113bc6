package registry

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/iotcore/iotcore/internal/iot"
)

// MaxPoliciesPerTarget is AWS's limit on policies attached to one certificate or identity.
const MaxPoliciesPerTarget = 10

// MaxPoliciesPerThingGroup is AWS's limit on policies attached to one static thing group.
const MaxPoliciesPerThingGroup = 2

// checkTarget verifies that a policy target exists and returns its attachment limit.
// Targets are certificate ARNs, thing-group ARNs or Cognito identity ids.
func (s *Service) checkTarget(ctx context.Context, tx Tx, target string) (limit int, err error) {
	if target == "" {
		return 0, iot.Errorf(iot.InvalidRequest, "target is required")
	}
	if !strings.HasPrefix(target, "arn:") {
		return MaxPoliciesPerTarget, nil // a Cognito identity id
	}
	arn, err := iot.ParseARN(target)
	if err != nil {
		return 0, iot.Errorf(iot.InvalidRequest, "target %q: %v", target, err)
	}
	switch arn.Type {
	case "cert":
		if _, err := tx.Certificate(ctx, arn.Name); err != nil {
			return 0, notFound(err, "certificate", arn.Name)
		}
		return MaxPoliciesPerTarget, nil
	case "thinggroup":
		if _, err := tx.ThingGroup(ctx, arn.Name); err != nil {
			return 0, notFound(err, "thing group", arn.Name)
		}
		return MaxPoliciesPerThingGroup, nil
	}
	return 0, iot.Errorf(iot.InvalidRequest, "target %q is not a certificate, thing group or Cognito identity", target)
}

// AttachPolicy attaches a policy to a target.
func (s *Service) AttachPolicy(ctx context.Context, name, target string) error {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error { return s.attachPolicy(ctx, tx, c, name, target) })
}

func (s *Service) attachPolicy(ctx context.Context, tx Tx, c *change, name, target string) error {
	if _, err := tx.Policy(ctx, name); err != nil {
		return notFound(err, "policy", name)
	}
	limit, err := s.checkTarget(ctx, tx, target)
	if err != nil {
		return err
	}
	attached, err := tx.ListTargetPolicies(ctx, target, Page{Limit: limit + 1})
	if err != nil {
		return err
	}
	return s.linkPolicy(ctx, tx, c, name, target, limit, attached)
}

// linkPolicy attaches the policy name to target, both known to exist, given
// the target's limit and the policies attached to it (limit+1 at most).
func (s *Service) linkPolicy(ctx context.Context, tx Tx, c *change, name, target string, limit int, attached []string) error {
	if slices.Contains(attached, name) {
		return nil
	}
	if len(attached) >= limit {
		return iot.Errorf(iot.LimitExceeded, "%s already has the maximum of %d attached policies", target, limit)
	}
	c.emit(AttachmentsChanged, target)
	return tx.AttachPolicy(ctx, name, target, c.now)
}

// DetachPolicy detaches a policy from a target; detaching what is not attached succeeds.
func (s *Service) DetachPolicy(ctx context.Context, name, target string) error {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return err
	}
	if target == "" {
		return iot.Errorf(iot.InvalidRequest, "target is required")
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.Policy(ctx, name); err != nil {
			return notFound(err, "policy", name)
		}
		c.emit(AttachmentsChanged, target)
		return tx.DetachPolicy(ctx, name, target)
	})
}

// ListAttachedPolicies lists the policies attached to a target; with recursive
// set and a thing-group target, those of its ancestors too.
func (s *Service) ListAttachedPolicies(ctx context.Context, target string, recursive bool, pr PageRequest) ([]string, string, error) {
	return listPage(ctx, s, pr, ident, func(tx Tx, p Page) ([]string, error) {
		var names []string
		if _, err := s.checkTarget(ctx, tx, target); err != nil {
			return nil, err
		}
		if !recursive || !strings.Contains(target, ":thinggroup/") {
			return tx.ListTargetPolicies(ctx, target, p)
		}
		all, _, err := s.groupPolicies(ctx, tx, target)
		if err != nil {
			return nil, err
		}
		names = after(all, p)
		return names, nil
	})
}

// groupPolicies returns the sorted, distinct policies of a group and its
// ancestors, and the names of the group and its ancestors (its lineage).
func (s *Service) groupPolicies(ctx context.Context, tx Tx, groupARN string) (policies, lineage []string, err error) {
	arn, _ := iot.ParseARN(groupARN)
	seen := map[string]bool{}
	var out []string
	for name, depth := arn.Name, 0; name != "" && depth <= MaxGroupDepth; depth++ {
		ps, err := tx.ListTargetPolicies(ctx, s.Account.ThingGroupARN(name), Page{Limit: MaxPoliciesPerTarget + 1})
		if err != nil {
			return nil, nil, err
		}
		lineage = append(lineage, name)
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		g, err := tx.ThingGroup(ctx, name)
		if errors.Is(err, ErrNotFound) {
			break
		} else if err != nil {
			return nil, nil, err
		}
		name = g.ParentName
	}
	sortStrings(out)
	return out, lineage, nil
}

// ListTargetsForPolicy lists the targets a policy is attached to.
func (s *Service) ListTargetsForPolicy(ctx context.Context, name string, pr PageRequest) ([]string, string, error) {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return nil, "", err
	}
	return listPage(ctx, s, pr, ident, func(tx Tx, p Page) ([]string, error) {
		if _, err := tx.Policy(ctx, name); err != nil {
			return nil, notFound(err, "policy", name)
		}
		return tx.ListPolicyTargets(ctx, name, p)
	})
}
