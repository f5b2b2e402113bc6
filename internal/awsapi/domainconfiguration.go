package awsapi

import (
	"encoding/json"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// domainConfigurationInput is what CreateDomainConfiguration and
// UpdateDomainConfiguration take besides the name; the objects iotcore
// keeps without acting on them stay raw JSON.
type domainConfigurationInput struct {
	AuthorizerConfig json.RawMessage `json:"authorizerConfig"`
	TLSConfig        *struct {
		SecurityPolicy *string `json:"securityPolicy"`
	} `json:"tlsConfig"`
	ServerCertificateConfig json.RawMessage `json:"serverCertificateConfig"`
	AuthenticationType      *string         `json:"authenticationType"`
	ApplicationProtocol     *string         `json:"applicationProtocol"`
	ClientCertificateConfig json.RawMessage `json:"clientCertificateConfig"`
}

// raw is a JSON object member as given, nil when absent or null.
func raw(m json.RawMessage) *string {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	s := string(m)
	return &s
}

func createDomainConfiguration(s *Server, r *request) (any, error) {
	var in struct {
		domainConfigurationInput
		DomainName               string    `json:"domainName"`
		ServerCertificateArns    []string  `json:"serverCertificateArns"`
		ValidationCertificateArn string    `json:"validationCertificateArn"`
		ServiceType              string    `json:"serviceType"`
		Tags                     []iot.Tag `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	d := registry.DomainConfiguration{
		Name: r.label("domainConfigurationName"), DomainName: in.DomainName, ServiceType: in.ServiceType,
		DomainSettings: registry.DomainSettings{
			ServerCertificateArns: in.ServerCertificateArns, ValidationCertificateArn: in.ValidationCertificateArn,
			AuthorizerConfig: deref(raw(in.AuthorizerConfig)), ServerCertificateConfig: deref(raw(in.ServerCertificateConfig)),
			ClientCertificateConfig: deref(raw(in.ClientCertificateConfig)),
			AuthenticationType:      deref(in.AuthenticationType), ApplicationProtocol: deref(in.ApplicationProtocol),
		},
	}
	if in.TLSConfig != nil {
		d.TLSSecurityPolicy = deref(in.TLSConfig.SecurityPolicy)
	}
	out, err := s.Registry.CreateDomainConfiguration(r.Context(), d, in.Tags)
	if err != nil {
		return nil, err
	}
	return obj{"domainConfigurationName": out.Name, "domainConfigurationArn": s.Registry.Account.DomainConfigurationARN(out.Name, out.ID)}, nil
}

// domainConfigurationARN is the ARN of d: a default configuration's has no
// random suffix.
func (s *Server) domainConfigurationARN(d *registry.DomainConfiguration) string {
	if d.ID == "" {
		return s.Registry.Account.ARN("domainconfiguration/" + d.Name)
	}
	return s.Registry.Account.DomainConfigurationARN(d.Name, d.ID)
}

func describeDomainConfiguration(s *Server, r *request) (any, error) {
	d, err := s.Registry.DescribeDomainConfiguration(r.Context(), r.label("domainConfigurationName"))
	if err != nil {
		return nil, err
	}
	domain := d.DomainName
	if d.DomainType != registry.DomainTypeCustomerManaged {
		domain = s.Endpoint // the default and AWS-managed domains are iotcore's endpoint
	}
	certs := []obj{}
	for _, arn := range d.ServerCertificateArns {
		// AWS uncertain: iotcore has no AWS Certificate Manager to read the
		// certificate from; it serves one its root CA issues for the domain.
		certs = append(certs, obj{"serverCertificateArn": arn, "serverCertificateStatus": "VALID",
			"serverCertificateStatusDetail": "iotcore serves a certificate its root CA issues for " + domain})
	}
	out := obj{
		"domainConfigurationName":   d.Name,
		"domainConfigurationArn":    s.domainConfigurationARN(d),
		"domainName":                domain,
		"serverCertificates":        certs,
		"domainConfigurationStatus": d.Status,
		"serviceType":               d.ServiceType,
		"domainType":                d.DomainType,
		"tlsConfig":                 obj{"securityPolicy": d.TLSSecurityPolicy},
		"authenticationType":        d.AuthenticationType,
		"applicationProtocol":       d.ApplicationProtocol,
	}
	if !d.StatusChangedAt.IsZero() {
		out["lastStatusChangeDate"] = epoch(d.StatusChangedAt)
	}
	for member, v := range map[string]string{"authorizerConfig": d.AuthorizerConfig,
		"serverCertificateConfig": d.ServerCertificateConfig, "clientCertificateConfig": d.ClientCertificateConfig} {
		if v != "" {
			out[member] = json.RawMessage(v)
		}
	}
	return out, nil
}

func updateDomainConfiguration(s *Server, r *request) (any, error) {
	var in struct {
		domainConfigurationInput
		DomainConfigurationStatus string `json:"domainConfigurationStatus"`
		RemoveAuthorizerConfig    bool   `json:"removeAuthorizerConfig"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	u := registry.DomainConfigurationUpdate{
		Status: in.DomainConfigurationStatus, RemoveAuthorizerConfig: in.RemoveAuthorizerConfig,
		AuthorizerConfig: raw(in.AuthorizerConfig), ServerCertificateConfig: raw(in.ServerCertificateConfig),
		ClientCertificateConfig: raw(in.ClientCertificateConfig),
		AuthenticationType:      in.AuthenticationType, ApplicationProtocol: in.ApplicationProtocol,
	}
	if in.TLSConfig != nil {
		u.TLSSecurityPolicy = in.TLSConfig.SecurityPolicy
	}
	d, err := s.Registry.UpdateDomainConfiguration(r.Context(), r.label("domainConfigurationName"), u)
	if err != nil {
		return nil, err
	}
	return obj{"domainConfigurationName": d.Name, "domainConfigurationArn": s.domainConfigurationARN(d)}, nil
}

func deleteDomainConfiguration(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeleteDomainConfiguration(r.Context(), r.label("domainConfigurationName"))
}

func listDomainConfigurations(s *Server, r *request) (any, error) {
	return listing(r, markers, "domainConfigurations", func(pr registry.PageRequest) ([]registry.DomainConfiguration, string, error) {
		return s.Registry.ListDomainConfigurations(r.Context(), r.query("serviceType"), pr)
	}, func(d registry.DomainConfiguration) obj {
		return obj{"domainConfigurationName": d.Name, "domainConfigurationArn": s.domainConfigurationARN(&d), "serviceType": d.ServiceType}
	})
}
