package registry

import "time"

// Thing is a registered device.
type Thing struct {
	Name             string
	ID               string // UUID
	TypeName         string // "" when the thing has no type
	Attributes       map[string]string
	Version          int64 // starts at 1, incremented by every update
	BillingGroupName string
	CreatedAt        time.Time
}

// ThingType describes a class of things.
type ThingType struct {
	Name                 string
	ID                   string
	Description          string
	SearchableAttributes []string
	// PropagatingAttributes is the JSON of mqtt5Configuration.propagatingAttributes, kept verbatim.
	PropagatingAttributes string
	Deprecated            bool
	DeprecatedAt          time.Time
	CreatedAt             time.Time
}

// ThingGroup is a static group of things.
type ThingGroup struct {
	Name        string
	ID          string
	ParentName  string // "" for a root group
	Description string
	Attributes  map[string]string
	Version     int64
	CreatedAt   time.Time
}

// Certificate is a device (client) certificate.
type Certificate struct {
	ID              string // lower-case hex SHA-256 of the DER
	PEM             string
	CAID            string // the registered CA that signed it, "" for none
	Status          string // iot.Status*
	Mode            string // iot.ModeDefault or iot.ModeSNIOnly
	OwnedBy         string // account id
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CustomerVersion int64
	GenerationID    string
	NotBefore       time.Time
	NotAfter        time.Time
	// ProvisioningClaim is, for a temporary claim certificate that
	// CreateProvisioningClaim made, the fleet-provisioning template it may
	// be used with; "" for every other certificate.
	ProvisioningClaim string
}

// RegistrationConfig is a CA's just-in-time provisioning configuration.
type RegistrationConfig struct {
	TemplateBody string
	RoleARN      string
	TemplateName string
}

// Empty reports whether no provisioning configuration is set.
func (c RegistrationConfig) Empty() bool {
	return c.TemplateBody == "" && c.RoleARN == "" && c.TemplateName == ""
}

// CACertificate is a registered certificate authority.
type CACertificate struct {
	ID               string
	PEM              string
	SubjectKey       string // hex SHA-256 of the raw subject, to find a device certificate's issuer
	Status           string // ACTIVE or INACTIVE
	AutoRegistration string // ENABLE or DISABLE
	Mode             string
	OwnedBy          string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	CustomerVersion  int64
	GenerationID     string
	NotBefore        time.Time
	NotAfter         time.Time
	Registration     RegistrationConfig
}

// Policy is an IoT policy; its documents live in PolicyVersions.
type Policy struct {
	Name           string
	DefaultVersion int64
	LastVersion    int64 // the highest version id ever issued; ids are never reused
	CreatedAt      time.Time
	UpdatedAt      time.Time
	GenerationID   string
}

// PolicyVersion is one document of a policy.
type PolicyVersion struct {
	PolicyName string
	VersionID  int64
	Document   string
	CreatedAt  time.Time
}

// ThingPrincipal links a thing and a principal (a certificate ARN).
type ThingPrincipal struct {
	ThingName string
	Principal string
	Type      string // iot.ExclusiveThing or iot.NonExclusiveThing
	CreatedAt time.Time
}

// Provisioning template types (TemplateType in the model).
const (
	TemplateTypeFleetProvisioning = "FLEET_PROVISIONING"
	TemplateTypeJITP              = "JITP"
)

// ProvisioningTemplate is a named provisioning template; its bodies live in
// ProvisioningTemplateVersions.
type ProvisioningTemplate struct {
	Name        string
	Description string
	Type        string // TemplateTypeFleetProvisioning or TemplateTypeJITP; never changes
	Enabled     bool
	RoleARN     string // provisioningRoleArn
	// Hook is the pre-provisioning hook, nil when there is none; when set,
	// its TargetARN is not empty.
	Hook           *ProvisioningHook
	DefaultVersion int64
	LastVersion    int64 // the highest version id ever issued; ids are never reused
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ProvisioningHook is a fleet-provisioning template's pre-provisioning hook.
type ProvisioningHook struct {
	TargetARN      string
	PayloadVersion string // "" when not given
}

// ProvisioningTemplateVersion is one body of a provisioning template.
type ProvisioningTemplateVersion struct {
	TemplateName string
	VersionID    int64 // from 1
	Body         string
	CreatedAt    time.Time
}
