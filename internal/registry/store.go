package registry

import (
	"context"
	"errors"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// ErrNotFound is returned by a Store when the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// Store is the persistence the registry needs. Every call of fn runs in one
// transaction: Update commits when fn returns nil and rolls back otherwise
// (also when fn panics, after which the panic goes on). Updates are
// serialisable and a View sees one consistent snapshot. A store may run fn more
// than once (to retry a serialisation failure), so fn must have no effects
// outside tx.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	// Read runs fn, which only reads, outside any transaction: each of
	// its statements sees what was committed when it runs, and no two
	// share a snapshot. It is for a read of one statement, which a View
	// would only wrap in a BEGIN and a COMMIT (two more round trips on
	// PostgreSQL).
	Read(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction. Getters return ErrNotFound for missing rows. List
// methods return at most Page.Limit rows whose sort key is after Page.After.
type Tx interface {
	AccountTx
	ThingTx
	ThingTypeTx
	ThingGroupTx
	CertificateTx
	CACertificateTx
	PolicyTx
	PolicyTargetTx
	ThingPrincipalTx
	TagTx
	ProvisioningAttemptTx
	ProvisioningTemplateTx
	ProvisioningTemplateVersionTx
	TopicRuleTx
	ShadowTx
	DomainConfigurationTx
	SettingTx
	BillingGroupTx
	RoleAliasTx
}

// Page selects a slice of an ordered listing by key set: rows strictly after
// the key After (empty: from the start), at most Limit of them (Limit <= 0:
// all of them). Keys sort by bytes, as Go compares strings.
type Page struct {
	After string
	Limit int
}

// AccountTx stores per-account singletons.
type AccountTx interface {
	RegistrationCode(ctx context.Context, account string) (string, error)
	PutRegistrationCode(ctx context.Context, account, code string, now time.Time) error
	DeleteRegistrationCode(ctx context.Context, account string) error
}

// ThingFilter narrows ListThings. Things are ordered by name.
type ThingFilter struct {
	NamePrefix     string // the console's search; not an AWS ListThings filter
	TypeName       string
	AttributeName  string
	AttributeValue string
	ValuePrefix    bool // AttributeValue is a prefix
}

// ThingTx stores things.
type ThingTx interface {
	Thing(ctx context.Context, name string) (*Thing, error)
	InsertThing(ctx context.Context, t *Thing) error
	UpdateThing(ctx context.Context, t *Thing) error
	DeleteThing(ctx context.Context, name string) error
	ListThings(ctx context.Context, f ThingFilter, p Page) ([]Thing, error)
	CountThingsOfType(ctx context.Context, typeName string) (int, error)
}

// ThingTypeTx stores thing types, ordered by name.
type ThingTypeTx interface {
	ThingType(ctx context.Context, name string) (*ThingType, error)
	InsertThingType(ctx context.Context, t *ThingType) error
	UpdateThingType(ctx context.Context, t *ThingType) error
	DeleteThingType(ctx context.Context, name string) error
	ListThingTypes(ctx context.Context, p Page) ([]ThingType, error)
}

// ThingGroupFilter narrows ListThingGroups.
type ThingGroupFilter struct {
	ParentName string // only direct children of this group
	NamePrefix string
	RootOnly   bool // only groups without a parent
}

// ThingGroupTx stores thing groups and their static membership, ordered by name.
type ThingGroupTx interface {
	ThingGroup(ctx context.Context, name string) (*ThingGroup, error)
	InsertThingGroup(ctx context.Context, g *ThingGroup) error
	UpdateThingGroup(ctx context.Context, g *ThingGroup) error
	DeleteThingGroup(ctx context.Context, name string) error
	ListThingGroups(ctx context.Context, f ThingGroupFilter, p Page) ([]ThingGroup, error)
	AddThingToGroup(ctx context.Context, group, thing string, now time.Time) error // no error if already a member
	RemoveThingFromGroup(ctx context.Context, group, thing string) error           // no error if not a member
	ListThingsInGroup(ctx context.Context, group string, p Page) ([]string, error)
	ListGroupsOfThing(ctx context.Context, thing string, p Page) ([]string, error)
}

// CertificateFilter narrows ListCertificates; certificates are ordered by creation time, then id.
type CertificateFilter struct {
	CAID      string // only certificates signed by this CA
	Ascending bool
	// WithoutClaims leaves out trusted-user provisioning claims
	// (Certificate.ProvisioningClaim), which AWS's ListCertificates does
	// not show.
	WithoutClaims bool
}

// CertificateTx stores device certificates. Listing keys are CertificateCursor values.
type CertificateTx interface {
	Certificate(ctx context.Context, id string) (*Certificate, error)
	InsertCertificate(ctx context.Context, c *Certificate) error
	UpdateCertificate(ctx context.Context, c *Certificate) error
	DeleteCertificate(ctx context.Context, id string) error
	ListCertificates(ctx context.Context, f CertificateFilter, p Page) ([]Certificate, error)
	CountCertificatesOfCA(ctx context.Context, caID string) (int, error)
}

// CACertificateFilter narrows ListCACertificates.
type CACertificateFilter struct {
	TemplateName string
	Ascending    bool
}

// CACertificateTx stores CA certificates. Listing keys are CertificateCursor values.
type CACertificateTx interface {
	CACertificate(ctx context.Context, id string) (*CACertificate, error)
	InsertCACertificate(ctx context.Context, c *CACertificate) error
	UpdateCACertificate(ctx context.Context, c *CACertificate) error
	DeleteCACertificate(ctx context.Context, id string) error
	ListCACertificates(ctx context.Context, f CACertificateFilter, p Page) ([]CACertificate, error)
	CACertificatesBySubject(ctx context.Context, subjectKey string) ([]CACertificate, error)
}

// PolicyTx stores policies (ordered by name) and their versions.
type PolicyTx interface {
	Policy(ctx context.Context, name string) (*Policy, error)
	InsertPolicy(ctx context.Context, p *Policy) error
	UpdatePolicy(ctx context.Context, p *Policy) error
	DeletePolicy(ctx context.Context, name string) error // and all its versions
	ListPolicies(ctx context.Context, ascending bool, p Page) ([]Policy, error)
	PolicyVersion(ctx context.Context, name string, version int64) (*PolicyVersion, error)
	// DefaultPolicyDocument is the document of the policy's default
	// version: Policy and PolicyVersion in one read, for the hot paths
	// (every connect, every device provisioned).
	DefaultPolicyDocument(ctx context.Context, name string) (string, error)
	InsertPolicyVersion(ctx context.Context, v *PolicyVersion) error
	DeletePolicyVersion(ctx context.Context, name string, version int64) error
	ListPolicyVersions(ctx context.Context, name string) ([]PolicyVersion, error) // newest first
}

// PolicyTargetTx stores policy attachments. A target is a certificate ARN, a
// thing-group ARN or a Cognito identity id.
type PolicyTargetTx interface {
	AttachPolicy(ctx context.Context, policy, target string, now time.Time) error // no error if attached
	DetachPolicy(ctx context.Context, policy, target string) error                // no error if not attached
	ListPolicyTargets(ctx context.Context, policy string, p Page) ([]string, error)
	ListTargetPolicies(ctx context.Context, target string, p Page) ([]string, error) // policy names, ordered
	CountPolicyTargets(ctx context.Context, policy string) (int, error)
	CountTargetPolicies(ctx context.Context, target string) (int, error)
}

// ThingPrincipalTx stores thing–principal links.
type ThingPrincipalTx interface {
	AttachThingPrincipal(ctx context.Context, tp *ThingPrincipal) error // replaces the type if linked
	DetachThingPrincipal(ctx context.Context, thing, principal string) error
	ThingPrincipal(ctx context.Context, thing, principal string) (*ThingPrincipal, error)
	ListThingPrincipals(ctx context.Context, thing string, p Page) ([]ThingPrincipal, error)     // by principal
	ListPrincipalThings(ctx context.Context, principal string, p Page) ([]ThingPrincipal, error) // by thing name
}

// TagTx stores resource tags, keyed by resource ARN, ordered by key.
type TagTx interface {
	PutTags(ctx context.Context, arn string, tags []iot.Tag) error // insert or overwrite each key
	DeleteTags(ctx context.Context, arn string, keys []string) error
	DeleteAllTags(ctx context.Context, arn string) error
	ListTags(ctx context.Context, arn string, p Page) ([]iot.Tag, error)
}

// ProvisioningTemplateTx stores provisioning templates, ordered by name.
type ProvisioningTemplateTx interface {
	ProvisioningTemplate(ctx context.Context, name string) (*ProvisioningTemplate, error)
	InsertProvisioningTemplate(ctx context.Context, t *ProvisioningTemplate) error
	UpdateProvisioningTemplate(ctx context.Context, t *ProvisioningTemplate) error
	DeleteProvisioningTemplate(ctx context.Context, name string) error // and all its versions
	ListProvisioningTemplates(ctx context.Context, p Page) ([]ProvisioningTemplate, error)
}

// ProvisioningTemplateVersionTx stores the versions of provisioning
// templates. Listing keys are VersionCursor values: versions are listed
// oldest (lowest id) first.
type ProvisioningTemplateVersionTx interface {
	ProvisioningTemplateVersion(ctx context.Context, name string, version int64) (*ProvisioningTemplateVersion, error)
	InsertProvisioningTemplateVersion(ctx context.Context, v *ProvisioningTemplateVersion) error // the template must exist
	DeleteProvisioningTemplateVersion(ctx context.Context, name string, version int64) error
	ListProvisioningTemplateVersions(ctx context.Context, name string, p Page) ([]ProvisioningTemplateVersion, error)
}

// TopicRuleFilter narrows ListTopicRules.
type TopicRuleFilter struct {
	Topic        string // only rules whose TopicPattern is exactly this; "" for all
	RuleDisabled *bool  // only rules whose RuleDisabled is this; nil for all
}

// TopicRuleTx stores topic rules, ordered by name. Actions and ErrorAction
// read back byte for byte as written; a rule without actions reads back an
// empty, non-nil slice, and one without an error action a nil ErrorAction.
type TopicRuleTx interface {
	TopicRule(ctx context.Context, name string) (*TopicRule, error)
	InsertTopicRule(ctx context.Context, r *TopicRule) error
	UpdateTopicRule(ctx context.Context, r *TopicRule) error
	DeleteTopicRule(ctx context.Context, name string) error
	ListTopicRules(ctx context.Context, f TopicRuleFilter, p Page) ([]TopicRule, error)
}

// StoredShadow is a device shadow as stored: its document is package
// shadow's, opaque here.
type StoredShadow struct {
	ThingName  string
	ShadowName string // "" for the classic shadow
	Document   []byte
	Version    int64
	UpdatedAt  time.Time
}

// ShadowTx stores device shadows by thing name and shadow name.
type ShadowTx interface {
	Shadow(ctx context.Context, thing, name string) (*StoredShadow, error)
	PutShadow(ctx context.Context, s *StoredShadow) error // insert or replace
	DeleteShadow(ctx context.Context, thing, name string) error
	ListNamedShadows(ctx context.Context, thing string, p Page) ([]string, error) // names, ordered; the classic shadow not listed
	AllShadows(ctx context.Context) ([]StoredShadow, error)                       // every shadow, by thing then name (registry.Copy)
}
