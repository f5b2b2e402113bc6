package registry

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// CopyCounts says how many of each record Copy copied.
type CopyCounts struct {
	Things, ThingTypes, ThingGroups, GroupMembers   int
	Certificates, CACertificates                    int
	Policies, PolicyVersions, PolicyTargets         int
	ThingPrincipals, Tags                           int
	ProvisioningTemplates, ProvisioningTemplateVers int
	TopicRules, ProvisioningAttempts                int
	Shadows                                         int
	BillingGroups, BillingGroupMembers, RoleAliases int
	DomainConfigurations                            int
	IndexingConfiguration                           bool
	RegistrationCode                                bool
}

// snapshot is everything a registry holds for one account, read in one
// View.
type snapshot struct {
	things      []Thing
	types       []ThingType
	groups      []ThingGroup
	members     map[string][]string // group → things
	certs       []Certificate
	cas         []CACertificate
	policies    []Policy
	versions    map[string][]PolicyVersion // policy → versions
	targets     map[string][]string        // policy → targets
	principals  []ThingPrincipal
	tags        map[string][]iot.Tag // ARN → tags
	templates   []ProvisioningTemplate
	templateVer map[string][]ProvisioningTemplateVersion
	rules       []TopicRule
	attempts    []ProvisioningAttempt
	shadows     []StoredShadow
	billing     []BillingGroup // members are their things' BillingGroupName
	aliases     []RoleAlias
	domains     []DomainConfiguration
	indexing    string // the stored indexing configuration's JSON, "" if never set
	code        string
}

// Copy copies account's whole registry from one store to another, as it
// is: names, ids, versions, times, documents, attachments, tags,
// provisioning attempts, billing groups, role aliases and the registration
// code. It reads the source in
// one snapshot and writes the destination in one transaction, which it
// reads back before committing: a destination that would not read back
// exactly as the source is left as it was, and so is one that a failure
// interrupts. The destination must hold no things, certificates, CAs,
// policies, templates, rules, billing groups or role aliases. For an operator moving from SQLite to
// PostgreSQL (iotcore store copy); no server may be using the destination
// meanwhile.
func Copy(ctx context.Context, from, to Store, account iot.Account) (CopyCounts, error) {
	var s snapshot
	if err := from.View(ctx, func(tx Tx) error { return s.read(ctx, tx, account) }); err != nil {
		return CopyCounts{}, fmt.Errorf("read the source registry: %w", err)
	}
	var n CopyCounts
	err := to.Update(ctx, func(tx Tx) error {
		if err := checkEmpty(ctx, tx); err != nil {
			return err
		}
		var err error
		if n, err = s.write(ctx, tx, account); err != nil {
			return err
		}
		var back snapshot
		if err := back.read(ctx, tx, account); err != nil {
			return fmt.Errorf("read the copy back: %w", err)
		}
		if what := s.differs(&back); what != "" {
			return fmt.Errorf("the copy does not read back as the source (%s): nothing was written", what)
		}
		return nil
	})
	if err != nil {
		return CopyCounts{}, fmt.Errorf("write the destination registry: %w", err)
	}
	return n, nil
}

// checkEmpty refuses a destination that holds a registry already.
func checkEmpty(ctx context.Context, tx Tx) error {
	one := Page{Limit: 1}
	for what, list := range map[string]func() (int, error){
		"things":       func() (int, error) { r, err := tx.ListThings(ctx, ThingFilter{}, one); return len(r), err },
		"certificates": func() (int, error) { r, err := tx.ListCertificates(ctx, CertificateFilter{}, one); return len(r), err },
		"CA certificates": func() (int, error) {
			r, err := tx.ListCACertificates(ctx, CACertificateFilter{}, one)
			return len(r), err
		},
		"policies":               func() (int, error) { r, err := tx.ListPolicies(ctx, true, one); return len(r), err },
		"provisioning templates": func() (int, error) { r, err := tx.ListProvisioningTemplates(ctx, one); return len(r), err },
		"topic rules":            func() (int, error) { r, err := tx.ListTopicRules(ctx, TopicRuleFilter{}, one); return len(r), err },
		"billing groups":         func() (int, error) { r, err := tx.ListBillingGroups(ctx, "", one); return len(r), err },
		"role aliases":           func() (int, error) { r, err := tx.ListRoleAliases(ctx, true, one); return len(r), err },
		"domain configurations":  func() (int, error) { r, err := tx.ListDomainConfigurations(ctx, one); return len(r), err },
	} {
		n, err := list()
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the destination registry already holds %s: copy into an empty database", what)
		}
	}
	return nil
}

func (s *snapshot) read(ctx context.Context, tx Tx, acct iot.Account) (err error) {
	all := Page{}
	if s.things, err = tx.ListThings(ctx, ThingFilter{}, all); err != nil {
		return err
	}
	if s.types, err = tx.ListThingTypes(ctx, all); err != nil {
		return err
	}
	if s.groups, err = tx.ListThingGroups(ctx, ThingGroupFilter{}, all); err != nil {
		return err
	}
	s.members = map[string][]string{}
	for _, g := range s.groups {
		if s.members[g.Name], err = tx.ListThingsInGroup(ctx, g.Name, all); err != nil {
			return err
		}
	}
	if s.certs, err = tx.ListCertificates(ctx, CertificateFilter{Ascending: true}, all); err != nil {
		return err
	}
	if s.cas, err = tx.ListCACertificates(ctx, CACertificateFilter{Ascending: true}, all); err != nil {
		return err
	}
	if s.policies, err = tx.ListPolicies(ctx, true, all); err != nil {
		return err
	}
	s.versions, s.targets = map[string][]PolicyVersion{}, map[string][]string{}
	for _, p := range s.policies {
		if s.versions[p.Name], err = tx.ListPolicyVersions(ctx, p.Name); err != nil {
			return err
		}
		if s.targets[p.Name], err = tx.ListPolicyTargets(ctx, p.Name, all); err != nil {
			return err
		}
	}
	for _, t := range s.things {
		ps, err := tx.ListThingPrincipals(ctx, t.Name, all)
		if err != nil {
			return err
		}
		s.principals = append(s.principals, ps...)
	}
	if s.templates, err = tx.ListProvisioningTemplates(ctx, all); err != nil {
		return err
	}
	s.templateVer = map[string][]ProvisioningTemplateVersion{}
	for _, t := range s.templates {
		if s.templateVer[t.Name], err = tx.ListProvisioningTemplateVersions(ctx, t.Name, all); err != nil {
			return err
		}
	}
	if s.rules, err = tx.ListTopicRules(ctx, TopicRuleFilter{}, all); err != nil {
		return err
	}
	if s.attempts, err = tx.ListProvisioningAttempts(ctx, ProvisioningAttemptFilter{}, all); err != nil {
		return err
	}
	if s.shadows, err = tx.AllShadows(ctx); err != nil {
		return err
	}
	if s.billing, err = tx.ListBillingGroups(ctx, "", all); err != nil {
		return err
	}
	if s.aliases, err = tx.ListRoleAliases(ctx, true, all); err != nil {
		return err
	}
	if s.domains, err = tx.ListDomainConfigurations(ctx, all); err != nil {
		return err
	}
	if s.indexing, err = tx.Setting(ctx, indexingSetting); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.code, err = tx.RegistrationCode(ctx, acct.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.tags = map[string][]iot.Tag{}
	for _, arn := range s.taggable(acct) {
		tags, err := tx.ListTags(ctx, arn, all)
		if err != nil {
			return err
		}
		if len(tags) > 0 {
			s.tags[arn] = tags
		}
	}
	return nil
}

// differs names the first part of the registry that o does not hold as s
// does, or returns "".
func (s *snapshot) differs(o *snapshot) string {
	for _, c := range []struct {
		what string
		a, b any
	}{
		{"things", s.things, o.things}, {"thing types", s.types, o.types}, {"thing groups", s.groups, o.groups},
		{"group members", s.members, o.members}, {"certificates", s.certs, o.certs}, {"CA certificates", s.cas, o.cas},
		{"policies", s.policies, o.policies}, {"policy versions", s.versions, o.versions}, {"policy targets", s.targets, o.targets},
		{"thing principals", s.principals, o.principals}, {"tags", s.tags, o.tags}, {"provisioning templates", s.templates, o.templates},
		{"provisioning template versions", s.templateVer, o.templateVer}, {"topic rules", s.rules, o.rules},
		{"provisioning attempts", s.attempts, o.attempts}, {"shadows", s.shadows, o.shadows}, {"registration code", s.code, o.code},
		{"billing groups", s.billing, o.billing}, {"role aliases", s.aliases, o.aliases},
		{"domain configurations", s.domains, o.domains}, {"indexing configuration", s.indexing, o.indexing},
	} {
		if !reflect.DeepEqual(c.a, c.b) {
			return c.what
		}
	}
	return ""
}

// taggable lists the ARNs of every resource that may carry tags.
func (s *snapshot) taggable(acct iot.Account) []string {
	var arns []string
	for _, t := range s.things {
		arns = append(arns, acct.ThingARN(t.Name))
	}
	for _, t := range s.types {
		arns = append(arns, acct.ThingTypeARN(t.Name))
	}
	for _, g := range s.groups {
		arns = append(arns, acct.ThingGroupARN(g.Name))
	}
	for _, c := range s.certs {
		arns = append(arns, acct.CertificateARN(c.ID))
	}
	for _, c := range s.cas {
		arns = append(arns, acct.CACertificateARN(c.ID))
	}
	for _, p := range s.policies {
		arns = append(arns, acct.PolicyARN(p.Name))
	}
	for _, t := range s.templates {
		arns = append(arns, acct.ProvisioningTemplateARN(t.Name))
	}
	for _, r := range s.rules {
		arns = append(arns, acct.ARN("rule/"+r.Name))
	}
	for _, g := range s.billing {
		arns = append(arns, BillingGroupARN(acct, g.Name))
	}
	for _, a := range s.aliases {
		arns = append(arns, RoleAliasARN(acct, a.Alias))
	}
	for _, d := range s.domains {
		if d.ID != "" {
			arns = append(arns, acct.DomainConfigurationARN(d.Name, d.ID))
		}
	}
	return arns
}

func (s *snapshot) write(ctx context.Context, tx Tx, acct iot.Account) (n CopyCounts, err error) {
	for i := range s.types {
		if err := tx.InsertThingType(ctx, &s.types[i]); err != nil {
			return n, err
		}
	}
	for i := range s.groups {
		if err := tx.InsertThingGroup(ctx, &s.groups[i]); err != nil {
			return n, err
		}
	}
	for i := range s.billing {
		if err := tx.InsertBillingGroup(ctx, &s.billing[i]); err != nil {
			return n, err
		}
	}
	for i := range s.things {
		if err := tx.InsertThing(ctx, &s.things[i]); err != nil {
			return n, err
		}
		if s.things[i].BillingGroupName != "" {
			n.BillingGroupMembers++
		}
	}
	for group, things := range s.members {
		for _, thing := range things {
			// Membership times are not listed: the copy's time stands in.
			if err := tx.AddThingToGroup(ctx, group, thing, time.Now().UTC()); err != nil {
				return n, err
			}
			n.GroupMembers++
		}
	}
	for i := range s.cas {
		if err := tx.InsertCACertificate(ctx, &s.cas[i]); err != nil {
			return n, err
		}
	}
	for i := range s.certs {
		if err := tx.InsertCertificate(ctx, &s.certs[i]); err != nil {
			return n, err
		}
	}
	for i := range s.policies {
		if err := tx.InsertPolicy(ctx, &s.policies[i]); err != nil {
			return n, err
		}
		for j := range s.versions[s.policies[i].Name] {
			if err := tx.InsertPolicyVersion(ctx, &s.versions[s.policies[i].Name][j]); err != nil {
				return n, err
			}
			n.PolicyVersions++
		}
		for _, target := range s.targets[s.policies[i].Name] {
			if err := tx.AttachPolicy(ctx, s.policies[i].Name, target, s.policies[i].UpdatedAt); err != nil {
				return n, err
			}
			n.PolicyTargets++
		}
	}
	for i := range s.principals {
		if err := tx.AttachThingPrincipal(ctx, &s.principals[i]); err != nil {
			return n, err
		}
	}
	for i := range s.templates {
		if err := tx.InsertProvisioningTemplate(ctx, &s.templates[i]); err != nil {
			return n, err
		}
		for j := range s.templateVer[s.templates[i].Name] {
			if err := tx.InsertProvisioningTemplateVersion(ctx, &s.templateVer[s.templates[i].Name][j]); err != nil {
				return n, err
			}
			n.ProvisioningTemplateVers++
		}
	}
	for i := range s.rules {
		if err := tx.InsertTopicRule(ctx, &s.rules[i]); err != nil {
			return n, err
		}
	}
	for i := range s.attempts {
		if err := tx.InsertProvisioningAttempt(ctx, &s.attempts[i]); err != nil {
			return n, err
		}
	}
	for i := range s.shadows {
		if err := tx.PutShadow(ctx, &s.shadows[i]); err != nil {
			return n, err
		}
	}
	for i := range s.aliases {
		if err := tx.InsertRoleAlias(ctx, &s.aliases[i]); err != nil {
			return n, err
		}
	}
	for i := range s.domains {
		if err := tx.InsertDomainConfiguration(ctx, &s.domains[i]); err != nil {
			return n, err
		}
	}
	if s.indexing != "" {
		if err := tx.PutSetting(ctx, indexingSetting, s.indexing, time.Now().UTC()); err != nil {
			return n, err
		}
		n.IndexingConfiguration = true
	}
	for arn, tags := range s.tags {
		if err := tx.PutTags(ctx, arn, tags); err != nil {
			return n, err
		}
		n.Tags += len(tags)
	}
	if s.code != "" {
		if err := tx.PutRegistrationCode(ctx, acct.ID, s.code, time.Now().UTC()); err != nil {
			return n, err
		}
		n.RegistrationCode = true
	}
	n.Things, n.ThingTypes, n.ThingGroups = len(s.things), len(s.types), len(s.groups)
	n.Certificates, n.CACertificates, n.Policies = len(s.certs), len(s.cas), len(s.policies)
	n.ThingPrincipals, n.ProvisioningTemplates = len(s.principals), len(s.templates)
	n.TopicRules, n.ProvisioningAttempts, n.Shadows = len(s.rules), len(s.attempts), len(s.shadows)
	n.BillingGroups, n.RoleAliases = len(s.billing), len(s.aliases)
	n.DomainConfigurations = len(s.domains)
	return n, nil
}
