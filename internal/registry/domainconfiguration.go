package registry

import (
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// DomainConfiguration is an endpoint devices connect to: one of the
// default ones AWS gives every account (iot:Data-ATS and the others,
// DomainTypeEndpoint), or one the user created, with a domain name of
// theirs (DomainTypeCustomerManaged) or without (DomainTypeAWSManaged).
type DomainConfiguration struct {
	Name string
	// ID is the random suffix of the ARN (AWS appends one); empty for a
	// default configuration.
	ID          string
	DomainName  string // empty for the default ones: DescribeEndpoint's
	DomainType  string // DomainType...
	ServiceType string // DATA, CREDENTIAL_PROVIDER or JOBS
	Status      string // DomainEnabled or DomainDisabled
	DomainSettings
	CreatedAt       time.Time
	StatusChangedAt time.Time
}

// DomainSettings are what a domain configuration's creator or
// UpdateDomainConfiguration sets besides its name and domain; iotcore keeps
// them as given (JSON objects verbatim) and acts on none but the domain
// name and status (docs/aws-differences.md, "Domain configurations").
type DomainSettings struct {
	ServerCertificateArns    []string `json:"serverCertificateArns,omitempty"`
	ValidationCertificateArn string   `json:"validationCertificateArn,omitempty"`
	AuthorizerConfig         string   `json:"authorizerConfig,omitempty"`
	TLSSecurityPolicy        string   `json:"tlsSecurityPolicy,omitempty"`
	ServerCertificateConfig  string   `json:"serverCertificateConfig,omitempty"`
	AuthenticationType       string   `json:"authenticationType,omitempty"`
	ApplicationProtocol      string   `json:"applicationProtocol,omitempty"`
	ClientCertificateConfig  string   `json:"clientCertificateConfig,omitempty"`
}

// Domain types and statuses (AWS's values).
const (
	DomainTypeEndpoint        = "ENDPOINT"
	DomainTypeAWSManaged      = "AWS_MANAGED"
	DomainTypeCustomerManaged = "CUSTOMER_MANAGED"
	DomainEnabled             = "ENABLED"
	DomainDisabled            = "DISABLED"
)

// DefaultTLSSecurityPolicy is the policy of a domain configuration created
// without one (AWS's default).
const DefaultTLSSecurityPolicy = "IoTSecurityPolicy_TLS13_1_2_2022_10"

// TLSSecurityPolicies are the security policies AWS IoT Core offers.
var TLSSecurityPolicies = []string{
	"IoTSecurityPolicy_TLS13_1_3_2022_10", "IoTSecurityPolicy_TLS13_1_2_2022_10",
	"IoTSecurityPolicy_TLS12_1_2_2022_10", "IoTSecurityPolicy_TLS12_1_0_2016_01",
	"IoTSecurityPolicy_TLS12_1_0_2015_01", "IoTSecurityPolicy_PFS_TLS13_1_3_2022_10",
	"IoTSecurityPolicy_PFS_TLS13_1_2_2022_10", "IoTSecurityPolicy_PFS_TLS12_1_2_2022_10",
	"IoTSecurityPolicy_PFS_TLS12_1_0_2016_01",
}

// MaxDomainConfigurations is how many domain configurations an account
// may create (AWS uncertain: its quota page gives 10 per account and
// Region for configurable endpoints).
const MaxDomainConfigurations = 10

// DefaultDomainConfigurations are the domain configurations every account
// has, served on the endpoint DescribeEndpoint names.
var DefaultDomainConfigurations = []struct{ Name, ServiceType string }{
	{"iot:CredentialProvider", "CREDENTIAL_PROVIDER"},
	{"iot:Data-ATS", "DATA"},
	{"iot:Jobs", "JOBS"},
}

// Name and value rules of the model.
var (
	DomainConfigurationNameRule = iot.NameRule{What: "domainConfigurationName", Min: 1, Max: 128,
		Pattern: regexp.MustCompile(`^[\w.-]+$`)}
	// domainNameRule: the model allows any 1-253 characters; a domain
	// name a server certificate can name is what devices can reach.
	domainNameRule = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)
	acmARNRule     = regexp.MustCompile(`^arn:aws(-cn|-us-gov|-iso-b|-iso)?:acm:[a-z]{2}-(gov-|iso-|isob-)?[a-z]{4,9}-\d{1}:\d{12}:certificate/[a-zA-Z0-9/-]+$`)
)

// DomainConfigurationTx stores the domain configurations users created
// and the default ones they changed, ordered by name.
type DomainConfigurationTx interface {
	DomainConfiguration(ctx context.Context, name string) (*DomainConfiguration, error)
	InsertDomainConfiguration(ctx context.Context, d *DomainConfiguration) error
	UpdateDomainConfiguration(ctx context.Context, d *DomainConfiguration) error
	DeleteDomainConfiguration(ctx context.Context, name string) error
	ListDomainConfigurations(ctx context.Context, p Page) ([]DomainConfiguration, error)
}

// checkDomainSettings checks the members AWS validates by pattern or
// enumeration.
func checkDomainSettings(d DomainSettings) error {
	for _, arn := range d.ServerCertificateArns {
		if !acmARNRule.MatchString(arn) {
			return iot.Errorf(iot.InvalidRequest, "serverCertificateArns: %q is not the ARN of an AWS Certificate Manager certificate", arn)
		}
	}
	if len(d.ServerCertificateArns) > 1 {
		return iot.Errorf(iot.InvalidRequest, "serverCertificateArns: at most 1 certificate, got %d", len(d.ServerCertificateArns))
	}
	if d.ValidationCertificateArn != "" && !acmARNRule.MatchString(d.ValidationCertificateArn) {
		return iot.Errorf(iot.InvalidRequest, "validationCertificateArn: %q is not the ARN of an AWS Certificate Manager certificate", d.ValidationCertificateArn)
	}
	if d.TLSSecurityPolicy != "" && !slices.Contains(TLSSecurityPolicies, d.TLSSecurityPolicy) {
		return iot.Errorf(iot.InvalidRequest, "tlsConfig.securityPolicy: %q is not one of %s", d.TLSSecurityPolicy, strings.Join(TLSSecurityPolicies, ", "))
	}
	if err := oneOf("authenticationType", d.AuthenticationType, "CUSTOM_AUTH_X509", "CUSTOM_AUTH", "AWS_X509", "AWS_SIGV4", "DEFAULT"); err != nil {
		return err
	}
	return oneOf("applicationProtocol", d.ApplicationProtocol, "SECURE_MQTT", "MQTT_WSS", "HTTPS", "DEFAULT")
}

func oneOf(member, v string, values ...string) error {
	if v == "" || slices.Contains(values, v) {
		return nil
	}
	return iot.Errorf(iot.InvalidRequest, "%s: %q is not one of %s", member, v, strings.Join(values, ", "))
}

// CreateDomainConfiguration creates a domain configuration: with a domain
// name, a customer-managed domain that iotcore serves with a server
// certificate its root CA issues for the name (it has no AWS Certificate
// Manager to take serverCertificateArns from: they are kept, not used);
// without one, an AWS-managed domain on iotcore's own endpoint.
func (s *Service) CreateDomainConfiguration(ctx context.Context, d DomainConfiguration, tags []iot.Tag) (*DomainConfiguration, error) {
	if err := DomainConfigurationNameRule.Check(d.Name); err != nil {
		return nil, err
	}
	if d.DomainName != "" && (len(d.DomainName) > 253 || !domainNameRule.MatchString(d.DomainName)) {
		return nil, iot.Errorf(iot.InvalidRequest, "domainName: %q is not a domain name a server certificate can name", d.DomainName)
	}
	if err := oneOf("serviceType", d.ServiceType, "DATA", "CREDENTIAL_PROVIDER", "JOBS"); err != nil {
		return nil, err
	}
	if err := checkDomainSettings(d.DomainSettings); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(tags); err != nil {
		return nil, err
	}
	d.DomainName = strings.ToLower(d.DomainName)
	d.DomainType = DomainTypeCustomerManaged
	if d.DomainName == "" {
		d.DomainType = DomainTypeAWSManaged
	}
	d.ServiceType = cmpOr(d.ServiceType, "DATA")
	d.TLSSecurityPolicy = cmpOr(d.TLSSecurityPolicy, DefaultTLSSecurityPolicy)
	d.AuthenticationType = cmpOr(d.AuthenticationType, "DEFAULT")
	d.ApplicationProtocol = cmpOr(d.ApplicationProtocol, "DEFAULT")
	d.Status = DomainEnabled
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if _, err := tx.DomainConfiguration(ctx, d.Name); err == nil {
			return iot.AlreadyExists("domain configuration", d.Name, "", s.Account.DomainConfigurationARN(d.Name, d.ID))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		all, err := tx.ListDomainConfigurations(ctx, Page{})
		if err != nil {
			return err
		}
		created := 0
		for _, other := range all {
			if other.DomainType == DomainTypeEndpoint {
				continue
			}
			created++
			if d.DomainName != "" && other.DomainName == d.DomainName {
				return iot.Errorf(iot.InvalidRequest, "the domain %s is already in the domain configuration %s", d.DomainName, other.Name)
			}
		}
		if created >= MaxDomainConfigurations {
			return iot.Errorf(iot.LimitExceeded, "an account can have at most %d domain configurations", MaxDomainConfigurations)
		}
		d.ID = arnSuffix()
		d.CreatedAt, d.StatusChangedAt = c.now, c.now
		if err := tx.InsertDomainConfiguration(ctx, &d); err != nil {
			return err
		}
		c.emit(DomainConfigurationChanged, d.Name)
		return tx.PutTags(ctx, s.Account.DomainConfigurationARN(d.Name, d.ID), tags)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// arnSuffix is the random part AWS appends to a domain configuration's ARN.
func arnSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 5)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// defaultDomainConfiguration is a default domain configuration as it is
// until UpdateDomainConfiguration changes (and stores) it.
func (s *Service) defaultDomainConfiguration(name string) (*DomainConfiguration, bool) {
	for _, d := range DefaultDomainConfigurations {
		if d.Name == name {
			return &DomainConfiguration{Name: d.Name, DomainType: DomainTypeEndpoint,
				ServiceType: d.ServiceType, Status: DomainEnabled,
				DomainSettings: DomainSettings{TLSSecurityPolicy: DefaultTLSSecurityPolicy,
					AuthenticationType: "DEFAULT", ApplicationProtocol: "DEFAULT"}}, true
		}
	}
	return nil, false
}

// domainConfiguration reads a domain configuration, default ones included.
func (s *Service) domainConfiguration(ctx context.Context, tx Tx, name string) (*DomainConfiguration, error) {
	d, err := tx.DomainConfiguration(ctx, name)
	if errors.Is(err, ErrNotFound) {
		if def, ok := s.defaultDomainConfiguration(name); ok {
			return def, nil
		}
	}
	return d, notFound(err, "domain configuration", name)
}

// DescribeDomainConfiguration describes a domain configuration.
func (s *Service) DescribeDomainConfiguration(ctx context.Context, name string) (*DomainConfiguration, error) {
	if err := describeNameRule.Check(name); err != nil {
		return nil, err
	}
	var d *DomainConfiguration
	err := s.view(ctx, func(tx Tx) error {
		var err error
		d, err = s.domainConfiguration(ctx, tx, name)
		return err
	})
	return d, err
}

// describeNameRule: Describe and Update take the default configurations'
// names, with a colon.
var describeNameRule = iot.NameRule{What: "domainConfigurationName", Min: 1, Max: 128,
	Pattern: regexp.MustCompile(`^[\w.:-]+$`)}

// DomainConfigurationUpdate is what UpdateDomainConfiguration changes: the
// status if not empty, and each setting given (non-nil).
type DomainConfigurationUpdate struct {
	Status                  string
	AuthorizerConfig        *string
	RemoveAuthorizerConfig  bool
	TLSSecurityPolicy       *string
	ServerCertificateConfig *string
	AuthenticationType      *string
	ApplicationProtocol     *string
	ClientCertificateConfig *string
}

// UpdateDomainConfiguration changes a domain configuration's status or
// settings. A default configuration changed is stored from then on.
func (s *Service) UpdateDomainConfiguration(ctx context.Context, name string, u DomainConfigurationUpdate) (*DomainConfiguration, error) {
	if err := describeNameRule.Check(name); err != nil {
		return nil, err
	}
	if err := oneOf("domainConfigurationStatus", u.Status, DomainEnabled, DomainDisabled); err != nil {
		return nil, err
	}
	if u.RemoveAuthorizerConfig && u.AuthorizerConfig != nil {
		return nil, iot.Errorf(iot.InvalidRequest, "authorizerConfig and removeAuthorizerConfig cannot be given together")
	}
	var out *DomainConfiguration
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		d, err := s.domainConfiguration(ctx, tx, name)
		if err != nil {
			return err
		}
		stored := !d.CreatedAt.IsZero()
		if u.Status != "" && u.Status != d.Status {
			d.Status, d.StatusChangedAt = u.Status, c.now
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&d.AuthorizerConfig, u.AuthorizerConfig)
		if u.RemoveAuthorizerConfig {
			d.AuthorizerConfig = ""
		}
		set(&d.TLSSecurityPolicy, u.TLSSecurityPolicy)
		set(&d.ServerCertificateConfig, u.ServerCertificateConfig)
		set(&d.AuthenticationType, u.AuthenticationType)
		set(&d.ApplicationProtocol, u.ApplicationProtocol)
		set(&d.ClientCertificateConfig, u.ClientCertificateConfig)
		if err := checkDomainSettings(d.DomainSettings); err != nil {
			return err
		}
		c.emit(DomainConfigurationChanged, d.Name)
		out = d
		if !stored {
			d.CreatedAt = c.now
			if d.StatusChangedAt.IsZero() {
				d.StatusChangedAt = c.now
			}
			return tx.InsertDomainConfiguration(ctx, d)
		}
		return tx.UpdateDomainConfiguration(ctx, d)
	})
	return out, err
}

// DeleteDomainConfiguration deletes a domain configuration the user
// created, once it is DISABLED (AWS: so that an endpoint in use is not
// deleted by accident; its 7-day wait for AWS-managed domains is not
// kept).
func (s *Service) DeleteDomainConfiguration(ctx context.Context, name string) error {
	if err := DomainConfigurationNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		d, err := tx.DomainConfiguration(ctx, name)
		if err != nil {
			return notFound(err, "domain configuration", name)
		}
		if d.Status != DomainDisabled {
			return iot.Errorf(iot.InvalidRequest, "the domain configuration %s must be DISABLED (UpdateDomainConfiguration) before it is deleted", name)
		}
		if err := tx.DeleteDomainConfiguration(ctx, name); err != nil {
			return err
		}
		c.emit(DomainConfigurationChanged, name)
		return tx.DeleteAllTags(ctx, s.Account.DomainConfigurationARN(name, d.ID))
	})
}

// ListDomainConfigurations lists domain configurations by name, the
// default ones included, optionally of one service type.
func (s *Service) ListDomainConfigurations(ctx context.Context, serviceType string, pr PageRequest) ([]DomainConfiguration, string, error) {
	if err := oneOf("serviceType", serviceType, "DATA", "CREDENTIAL_PROVIDER", "JOBS"); err != nil {
		return nil, "", err
	}
	p, err := pr.page()
	if err != nil {
		return nil, "", err
	}
	var all []DomainConfiguration
	err = s.view(ctx, func(tx Tx) error {
		stored, err := tx.ListDomainConfigurations(ctx, Page{})
		if err != nil {
			return err
		}
		all = stored
		for _, def := range DefaultDomainConfigurations {
			if !slices.ContainsFunc(stored, func(d DomainConfiguration) bool { return d.Name == def.Name }) {
				d, _ := s.defaultDomainConfiguration(def.Name)
				all = append(all, *d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(all, func(a, b DomainConfiguration) int { return strings.Compare(a.Name, b.Name) })
	all = slices.DeleteFunc(all, func(d DomainConfiguration) bool {
		return (serviceType != "" && d.ServiceType != serviceType) || (p.After != "" && d.Name <= p.After)
	})
	rows, next := trim(all[:min(len(all), p.Limit)], p, func(d DomainConfiguration) string { return d.Name })
	return rows, next, nil
}

// domainConfigurationOfARN checks that an ARN's <name>/<id> is a domain
// configuration's the user created; ErrNotFound if not.
func domainConfigurationOfARN(ctx context.Context, tx Tx, nameAndID string) error {
	name, id, _ := strings.Cut(nameAndID, "/")
	d, err := tx.DomainConfiguration(ctx, name)
	if err == nil && d.ID != id {
		return ErrNotFound
	}
	return err
}

// ServedDomains lists the domain configurations with a domain name of
// their own, for the TLS listeners: which names to serve a certificate
// for, and which are disabled.
func (s *Service) ServedDomains(ctx context.Context) ([]DomainConfiguration, error) {
	var out []DomainConfiguration
	err := s.view(ctx, func(tx Tx) error {
		all, err := tx.ListDomainConfigurations(ctx, Page{})
		for _, d := range all {
			if d.DomainType == DomainTypeCustomerManaged {
				out = append(out, d)
			}
		}
		return err
	})
	return out, err
}
