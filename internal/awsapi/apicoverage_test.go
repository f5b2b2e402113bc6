package awsapi

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// coverageNotes says, for served operations, where iotcore's behaviour
// differs from AWS's, as a link into docs/aws-differences.md.
var coverageNotes = map[string]string{
	"CreateDomainConfiguration":           "[domain configurations](aws-differences.md#domain-configurations): the certificate is iotcore's",
	"DescribeDomainConfiguration":         "[domain configurations](aws-differences.md#domain-configurations)",
	"UpdateDomainConfiguration":           "[domain configurations](aws-differences.md#domain-configurations)",
	"SearchIndex":                         "[fleet indexing](aws-differences.md#fleet-indexing)",
	"UpdateIndexingConfiguration":         "[fleet indexing](aws-differences.md#fleet-indexing)",
	"AddThingToBillingGroup":              "[billing groups](aws-differences.md#billing-groups-and-role-aliases)",
	"CreateRoleAlias":                     "no credentials provider ([role aliases](aws-differences.md#billing-groups-and-role-aliases))",
	"CreateKeysAndCertificate":            "[certificates](aws-differences.md#certificates)",
	"CreateCertificateFromCsr":            "[certificates](aws-differences.md#certificates)",
	"RegisterCertificate":                 "[certificates](aws-differences.md#certificates)",
	"RegisterCertificateWithoutCA":        "[certificates](aws-differences.md#certificates)",
	"RegisterCACertificate":               "[JITP/JITR](aws-differences.md#just-in-time-provisioning-and-registration)",
	"CreatePolicy":                        "[policies](aws-differences.md#policies)",
	"CreatePolicyVersion":                 "[policies](aws-differences.md#policies)",
	"CreateProvisioningTemplate":          "[provisioning templates](aws-differences.md#provisioning-template-api)",
	"CreateProvisioningClaim":             "[fleet provisioning](aws-differences.md#fleet-provisioning)",
	"RegisterThing":                       "[provisioning templates](aws-differences.md#provisioning-templates)",
	"CreateTopicRule":                     "[topic rules](aws-differences.md#topic-rules)",
	"ReplaceTopicRule":                    "[topic rules](aws-differences.md#topic-rules)",
	"UpdateThingGroupsForThing":           "no dynamic groups: `overrideDynamicGroups` has nothing to override",
	"UpdateThingType":                     "replaces the properties the request names ([registry](aws-differences.md#registry))",
	"Publish":                             "[iot-data Publish](aws-differences.md#iot-data-publish)",
	"GetThingShadow":                      "[device shadows](aws-differences.md#device-shadows)",
	"UpdateThingShadow":                   "[device shadows](aws-differences.md#device-shadows)",
	"DeleteThingShadow":                   "[device shadows](aws-differences.md#device-shadows)",
	"ListNamedShadowsForThing":            "[device shadows](aws-differences.md#device-shadows)",
	"ListProvisioningAttempts":            "iotcore's own: why each device's provisioning succeeded or failed",
	"ListTopicRuleFailures":               "iotcore's own: the rule actions that failed lately",
	"DescribeEndpoint":                    "the endpoint iotcore serves ([control-plane API](aws-differences.md#control-plane-api))",
	"DeleteRegistrationCode":              "",
	"AttachPrincipalPolicy":               "deprecated on AWS, served",
	"DetachPrincipalPolicy":               "deprecated on AWS, served",
	"ListPrincipalPolicies":               "deprecated on AWS, served",
	"ListPolicyPrincipals":                "deprecated on AWS, served",
	"DescribeProvisioningTemplate":        "",
	"DescribeProvisioningTemplateVersion": "",
}

// TestAPICoverageDoc keeps docs/api-coverage.md, generated from the
// botocore models and the routes, up to date: every operation of AWS IoT's
// control plane and data plane, whether iotcore serves it, and where it
// differs.
func TestAPICoverageDoc(t *testing.T) {
	control := loadModel(t).Operations
	data := loadServiceModel(t, "iot-data").Operations
	served := map[string]bool{}
	for _, rt := range append(routes(), dataRoutes()...) {
		served[rt.Op] = true
	}
	for op := range coverageNotes {
		if !served[op] {
			t.Errorf("coverageNotes has a note for %s, which iotcore does not serve", op)
		}
	}
	count := func(ops map[string]modelOperation) int {
		n := 0
		for op := range ops {
			if served[op] {
				n++
			}
		}
		return n
	}
	var b bytes.Buffer
	b.WriteString("# AWS IoT API coverage\n\n")
	b.WriteString("Generated from botocore's AWS IoT models and iotcore's routes by `TestAPICoverageDoc`\n")
	b.WriteString("(`IOTCORE_UPDATE=1 go test ./internal/awsapi -run TestAPICoverageDoc`); CI fails when it is out of date.\n\n")
	fmt.Fprintf(&b, "- **Control plane** (`aws iot`, signing name `iot`): %d of %d operations served.\n", count(control), len(control))
	fmt.Fprintf(&b, "- **Data plane** (`aws iot-data`, signing name `iotdata`): %d of %d operations served.\n", count(data), len(data))
	b.WriteString("- Devices use MQTT (mutual TLS, or WebSocket with SigV4): see the README.\n\n")
	b.WriteString("An operation iotcore does not serve is answered `404 UnknownOperationException` with a message that names it.\n")
	b.WriteString("Differences from AWS in what is served are in [aws-differences.md](aws-differences.md).\n")
	section := func(title string, ops map[string]modelOperation) {
		fmt.Fprintf(&b, "\n## %s\n\n| operation | request | iotcore | notes |\n|---|---|---|---|\n", title)
		names := make([]string, 0, len(ops))
		for op := range ops {
			names = append(names, op)
		}
		slices.Sort(names)
		for _, op := range names {
			uri, _, _ := strings.Cut(ops[op].HTTP.RequestURI, "?")
			mark := "—"
			if served[op] {
				mark = "served"
			}
			fmt.Fprintf(&b, "| %s | `%s %s` | %s | %s |\n", op, ops[op].HTTP.Method, uri, mark, coverageNotes[op])
		}
	}
	section("Control plane (aws iot)", control)
	section("Data plane (aws iot-data)", data)
	b.WriteString("\n## iotcore's own operations\n\n| operation | request | notes |\n|---|---|---|\n")
	for _, rt := range routes() {
		if rt.Extension {
			fmt.Fprintf(&b, "| %s | `%s %s` | %s |\n", rt.Op, rt.Method, rt.Pattern, coverageNotes[rt.Op])
		}
	}
	checkGenerated(t, "../../docs/api-coverage.md", b.Bytes())
}
