package registry

import (
	"context"
	"errors"
	"sort"
)

// NamedPolicy is a policy's default document.
type NamedPolicy struct {
	Name     string
	Document string
}

// PrincipalContext is what authorizing a certificate's connection needs: the
// certificate, the things attached to it, and its effective policies — its
// own and those inherited from the groups (and their ancestors) of its things.
type PrincipalContext struct {
	Certificate Certificate
	Things      []ThingWithPrincipal
	Policies    []NamedPolicy
	// Groups names, sorted, every thing group the things are in and every
	// ancestor of those: a change to any of them may change the policies.
	Groups []string
}

// ThingWithPrincipal is a thing attached to the principal, with the attachment type.
type ThingWithPrincipal struct {
	Thing
	AttachmentType string
}

// PrincipalContext loads, in one snapshot, everything needed to authorize the
// connection of the certificate id. The answer is shared: callers must not
// modify it. Answers are cached until the next change (principalcache.go).
func (s *Service) PrincipalContext(ctx context.Context, certID string) (*PrincipalContext, error) {
	if !s.caching() {
		return s.loadPrincipalContext(ctx, certID)
	}
	if pc, ok := s.principals.get(certID); ok {
		return pc, nil
	}
	gen := s.principals.gen.Load()
	pc, err := s.loadPrincipalContext(ctx, certID)
	if err == nil {
		s.principals.put(certID, gen, pc)
	}
	return pc, err
}

func (s *Service) loadPrincipalContext(ctx context.Context, certID string) (*PrincipalContext, error) {
	var out *PrincipalContext
	err := s.view(ctx, func(tx Tx) error {
		cert, err := tx.Certificate(ctx, certID)
		if err != nil {
			return notFound(err, "certificate", certID)
		}
		out = &PrincipalContext{Certificate: *cert}
		if cert.ProvisioningClaim != "" {
			// A trusted-user claim: only its implicit policy, nothing attached.
			out.Policies = []NamedPolicy{{Name: ClaimPolicyName, Document: ClaimPolicy(s.Account, cert.ProvisioningClaim)}}
			return nil
		}
		arn := s.Account.CertificateARN(certID)
		links, err := tx.ListPrincipalThings(ctx, arn, Page{})
		if err != nil {
			return err
		}
		names, lineages := map[string]bool{}, map[string]bool{}
		own, err := tx.ListTargetPolicies(ctx, arn, Page{})
		if err != nil {
			return err
		}
		for _, n := range own {
			names[n] = true
		}
		for _, l := range links {
			t, err := tx.Thing(ctx, l.ThingName)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			out.Things = append(out.Things, ThingWithPrincipal{Thing: *t, AttachmentType: l.Type})
			groups, err := tx.ListGroupsOfThing(ctx, t.Name, Page{})
			if err != nil {
				return err
			}
			for _, g := range groups {
				inherited, lineage, err := s.groupPolicies(ctx, tx, s.Account.ThingGroupARN(g))
				if err != nil {
					return err
				}
				for _, n := range inherited {
					names[n] = true
				}
				for _, n := range lineage {
					lineages[n] = true
				}
			}
		}
		for g := range lineages {
			out.Groups = append(out.Groups, g)
		}
		sort.Strings(out.Groups)
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		for _, n := range sorted {
			doc, err := tx.DefaultPolicyDocument(ctx, n)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			out.Policies = append(out.Policies, NamedPolicy{Name: n, Document: doc})
		}
		return nil
	})
	return out, err
}
