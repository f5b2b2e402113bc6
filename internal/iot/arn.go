package iot

import (
	"fmt"
	"strings"
)

// Partition is the ARN partition iotcore uses.
const Partition = "aws"

// Account identifies the AWS account and region an iotcore server impersonates.
type Account struct {
	ID     string // 12 digits
	Region string // e.g. us-east-1
}

// ARN returns arn:aws:iot:<region>:<account>:<resource>.
func (a Account) ARN(resource string) string {
	return "arn:" + Partition + ":iot:" + a.Region + ":" + a.ID + ":" + resource
}

// CertificateARN returns the ARN of a device certificate.
func (a Account) CertificateARN(id string) string { return a.ARN("cert/" + id) }

// CACertificateARN returns the ARN of a CA certificate.
func (a Account) CACertificateARN(id string) string { return a.ARN("cacert/" + id) }

// ThingARN returns the ARN of a thing.
func (a Account) ThingARN(name string) string { return a.ARN("thing/" + name) }

// ThingTypeARN returns the ARN of a thing type.
func (a Account) ThingTypeARN(name string) string { return a.ARN("thingtype/" + name) }

// ThingGroupARN returns the ARN of a thing group.
func (a Account) ThingGroupARN(name string) string { return a.ARN("thinggroup/" + name) }

// PolicyARN returns the ARN of a policy.
func (a Account) PolicyARN(name string) string { return a.ARN("policy/" + name) }

// ProvisioningTemplateARN returns the ARN of a provisioning template.
func (a Account) ProvisioningTemplateARN(name string) string {
	return a.ARN("provisioningtemplate/" + name)
}

// DomainConfigurationARN returns the ARN of a domain configuration: its
// name and the random id AWS appends.
func (a Account) DomainConfigurationARN(name, id string) string {
	return a.ARN("domainconfiguration/" + name + "/" + id)
}

// ResourceARN is a parsed arn:aws:iot ARN.
type ResourceARN struct {
	Region  string
	Account string
	Type    string // cert, cacert, thing, thingtype, thinggroup, policy, ...
	Name    string // everything after the first "/"
}

// ParseARN splits an IoT ARN of the form arn:aws:iot:region:account:type/name.
func ParseARN(s string) (ResourceARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iot" {
		return ResourceARN{}, fmt.Errorf("%q is not an AWS IoT ARN", s)
	}
	typ, name, ok := strings.Cut(parts[5], "/")
	if !ok || typ == "" || name == "" {
		return ResourceARN{}, fmt.Errorf("%q does not name a resource (want <type>/<name>)", s)
	}
	return ResourceARN{Region: parts[3], Account: parts[4], Type: typ, Name: name}, nil
}
