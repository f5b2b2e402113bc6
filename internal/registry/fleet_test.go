package registry_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/registry"
)

// TestPlanFleet renders fleet-provisioning templates for the certificate an
// ownership token names: the certificate resource must be in CertificateId
// form and come to that certificate, whatever the device sends for
// AWS::IoT::Certificate::Id.
func TestPlanFleet(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const other = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	cert := func(props string) string {
		return `{"Parameters":{"Serial":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},
		 "Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"Serial"}}},
		  "certificate":{"Type":"AWS::IoT::Certificate","Properties":` + props + `}},
		 "DeviceConfiguration":{"Serial":{"Ref":"Serial"}}}`
	}
	good := cert(`{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"Inactive"}`)
	for _, tc := range []struct {
		name, body string
		params     map[string]string
		step, want string // the failure; "" for none
	}{
		{"good", good, map[string]string{"Serial": "s1"}, "", ""},
		{"device names another certificate", good, map[string]string{"Serial": "s1", "AWS::IoT::Certificate::Id": other}, "", ""},
		{"missing parameter", good, nil, "render", `parameter "Serial" has no value`},
		{"parameter too long", good, map[string]string{"Serial": strings.Repeat("x", 4097)}, "render", "the limit is 4096"},
		{"not JSON", `{`, nil, "template", ""},
		{"no certificate", `{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":"t"}}}}`, nil, "template", "needs an AWS::IoT::Certificate resource"},
		{"CSR form", cert(`{"CertificateSigningRequest":"csr"}`), map[string]string{"Serial": "s1"}, "template", "only the CertificateId form"},
		{"another certificate", cert(`{"CertificateId":"` + other + `"}`), map[string]string{"Serial": "s1"}, "template", "names another certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := maps.Clone(tc.params)
			plan, err := registry.PlanFleet(tc.body, id, tc.params)
			if !maps.Equal(sent, tc.params) {
				t.Errorf("PlanFleet changed the caller's parameters to %v", tc.params)
			}
			if tc.step != "" {
				var pe *registry.ProvisionError
				if !errors.As(err, &pe) || pe.Step != tc.step || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v; want a failure at %s saying %q", err, tc.step, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if plan.Certificate == nil || plan.Certificate.ID != id || plan.Certificate.Status != "INACTIVE" {
				t.Errorf("certificate %+v; want %s INACTIVE", plan.Certificate, id)
			}
			if plan.Thing == nil || plan.Thing.Name != "s1" || plan.DeviceConfiguration["Serial"] != "s1" {
				t.Errorf("plan %+v", plan)
			}
		})
	}
}
