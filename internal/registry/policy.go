package registry

import (
	"context"
	"errors"
	"strconv"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/policy"
)

// MaxPolicyVersions is AWS's limit on versions kept per policy.
const MaxPolicyVersions = 5

// PolicyWithDocument is a policy together with one version's document.
type PolicyWithDocument struct {
	Policy
	Version PolicyVersion
}

// checkPolicyDocument parses doc with the real policy parser.
func checkPolicyDocument(doc string) error {
	if _, err := policy.Parse(doc); err != nil {
		return &iot.Error{Code: iot.MalformedPolicy, Message: "the policy document is malformed: " + err.Error()}
	}
	return nil
}

// CreatePolicy creates a policy whose version 1 is doc.
func (s *Service) CreatePolicy(ctx context.Context, name, doc string, tags []iot.Tag) (*PolicyWithDocument, error) {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(tags); err != nil {
		return nil, err
	}
	var out *PolicyWithDocument
	err := s.update(ctx, func(tx Tx, c *change) error {
		var err error
		out, err = s.createPolicy(ctx, tx, c, name, doc)
		if err != nil {
			return err
		}
		return tx.PutTags(ctx, s.Account.PolicyARN(name), tags)
	})
	if err == nil {
		s.warnForeignARNs(ctx, "policy", name, []NamedPolicy{{name, doc}})
	}
	return out, err
}

// createPolicy inserts a policy inside a transaction; provisioning uses it too.
func (s *Service) createPolicy(ctx context.Context, tx Tx, c *change, name, doc string) (*PolicyWithDocument, error) {
	if _, err := tx.Policy(ctx, name); err == nil {
		return nil, iot.AlreadyExists("policy", name, name, s.Account.PolicyARN(name))
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	p := &Policy{Name: name, DefaultVersion: 1, LastVersion: 1, CreatedAt: c.now, UpdatedAt: c.now, GenerationID: newID()}
	v := &PolicyVersion{PolicyName: name, VersionID: 1, Document: doc, CreatedAt: c.now}
	if err := tx.InsertPolicy(ctx, p); err != nil {
		return nil, err
	}
	if err := tx.InsertPolicyVersion(ctx, v); err != nil {
		return nil, err
	}
	return &PolicyWithDocument{Policy: *p, Version: *v}, nil
}

// Policy returns a policy with its default version.
func (s *Service) Policy(ctx context.Context, name string) (*PolicyWithDocument, error) {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return nil, err
	}
	var out *PolicyWithDocument
	err := s.view(ctx, func(tx Tx) error {
		p, err := tx.Policy(ctx, name)
		if err != nil {
			return notFound(err, "policy", name)
		}
		v, err := tx.PolicyVersion(ctx, name, p.DefaultVersion)
		if err != nil {
			return err
		}
		out = &PolicyWithDocument{Policy: *p, Version: *v}
		return nil
	})
	return out, err
}

// ListPolicies lists policies by name.
func (s *Service) ListPolicies(ctx context.Context, ascending bool, pr PageRequest) ([]Policy, string, error) {
	return listPage(ctx, s, pr, func(p Policy) string { return p.Name }, func(tx Tx, p Page) ([]Policy, error) {
		return tx.ListPolicies(ctx, ascending, p)
	})
}

// DeletePolicy deletes a policy that has no attachments and no versions other
// than the default.
func (s *Service) DeletePolicy(ctx context.Context, name string) error {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.Policy(ctx, name); err != nil {
			return notFound(err, "policy", name)
		}
		targets, err := tx.ListPolicyTargets(ctx, name, Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(targets) > 0 {
			return iot.Errorf(iot.DeleteConflict, "the policy %s is attached to %s: detach it first", name, targets[0])
		}
		versions, err := tx.ListPolicyVersions(ctx, name)
		if err != nil {
			return err
		}
		if len(versions) > 1 {
			return iot.Errorf(iot.DeleteConflict, "the policy %s has %d versions besides the default: delete them first", name, len(versions)-1)
		}
		if err := tx.DeletePolicy(ctx, name); err != nil {
			return err
		}
		c.emit(PolicyChanged, name)
		return tx.DeleteAllTags(ctx, s.Account.PolicyARN(name))
	})
}

// CreatePolicyVersion adds a version, making it the default when asked. A
// policy keeps at most MaxPolicyVersions versions.
func (s *Service) CreatePolicyVersion(ctx context.Context, name, doc string, setAsDefault bool) (*PolicyVersion, bool, error) {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return nil, false, err
	}
	if err := checkPolicyDocument(doc); err != nil {
		return nil, false, err
	}
	var v *PolicyVersion
	err := s.update(ctx, func(tx Tx, c *change) error {
		p, err := tx.Policy(ctx, name)
		if err != nil {
			return notFound(err, "policy", name)
		}
		versions, err := tx.ListPolicyVersions(ctx, name)
		if err != nil {
			return err
		}
		if len(versions) >= MaxPolicyVersions {
			return iot.Errorf(iot.VersionsLimitExceeded, "the policy %s already has the maximum of %d versions: delete one first", name, MaxPolicyVersions)
		}
		p.LastVersion++
		v = &PolicyVersion{PolicyName: name, VersionID: p.LastVersion, Document: doc, CreatedAt: c.now}
		if err := tx.InsertPolicyVersion(ctx, v); err != nil {
			return err
		}
		if setAsDefault {
			p.DefaultVersion = v.VersionID
			c.emit(PolicyChanged, name)
		}
		p.UpdatedAt = c.now
		p.GenerationID = newID()
		return tx.UpdatePolicy(ctx, p)
	})
	if err == nil {
		s.warnForeignARNs(ctx, "policy version", versionName(name, v.VersionID), []NamedPolicy{{name, doc}})
	}
	return v, setAsDefault, err
}

// parseVersionID checks a policyVersionId path label.
func parseVersionID(s string) (int64, error) {
	if err := iot.PolicyVersionIDRule.Check(s); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, iot.Errorf(iot.InvalidRequest, "policyVersionId %q is not a number", s)
	}
	return n, nil
}

// PolicyVersion returns one version of a policy and whether it is the default.
func (s *Service) PolicyVersion(ctx context.Context, name, versionID string) (*PolicyWithDocument, error) {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return nil, err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return nil, err
	}
	var out *PolicyWithDocument
	err = s.view(ctx, func(tx Tx) error {
		p, err := tx.Policy(ctx, name)
		if err != nil {
			return notFound(err, "policy", name)
		}
		v, err := tx.PolicyVersion(ctx, name, id)
		if err != nil {
			return notFound(err, "policy version", name+" "+versionID)
		}
		out = &PolicyWithDocument{Policy: *p, Version: *v}
		return nil
	})
	return out, err
}

// ListPolicyVersions lists a policy's versions, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, name string) (*Policy, []PolicyVersion, error) {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return nil, nil, err
	}
	var p *Policy
	var versions []PolicyVersion
	err := s.view(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.Policy(ctx, name); err != nil {
			return notFound(err, "policy", name)
		}
		versions, err = tx.ListPolicyVersions(ctx, name)
		return err
	})
	return p, versions, err
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, name, versionID string) error {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		p, err := tx.Policy(ctx, name)
		if err != nil {
			return notFound(err, "policy", name)
		}
		if _, err := tx.PolicyVersion(ctx, name, id); err != nil {
			return notFound(err, "policy version", name+" "+versionID)
		}
		if p.DefaultVersion == id {
			return iot.Errorf(iot.DeleteConflict, "version %s is the default version of the policy %s and cannot be deleted", versionID, name)
		}
		return tx.DeletePolicyVersion(ctx, name, id)
	})
}

// SetDefaultPolicyVersion makes a version the operative one.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, name, versionID string) error {
	if err := iot.PolicyNameRule.Check(name); err != nil {
		return err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		p, err := tx.Policy(ctx, name)
		if err != nil {
			return notFound(err, "policy", name)
		}
		if _, err := tx.PolicyVersion(ctx, name, id); err != nil {
			return notFound(err, "policy version", name+" "+versionID)
		}
		if p.DefaultVersion == id {
			return nil
		}
		p.DefaultVersion = id
		p.UpdatedAt = c.now
		p.GenerationID = newID()
		c.emit(PolicyChanged, name)
		return tx.UpdatePolicy(ctx, p)
	})
}
