package provision

import (
	"crypto/x509/pkix"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestCheckPredictsProvisioning runs the dry run on seed 000's template, as
// registered (examples/jitp_template.json), for certificates with and
// without the C attribute the template needs.
func TestCheckPredictsProvisioning(t *testing.T) {
	text, err := os.ReadFile("../../examples/jitp_template.json")
	if err != nil {
		t.Fatal(err)
	}
	body, err := TemplateBody(string(text))
	if err != nil {
		t.Fatal(err)
	}
	ca := pkitest.NewRoot(t, "Root")
	good, _ := pkitest.NewClient(t, ca, pkix.Name{CommonName: "DemoThing", Country: []string{"IN"}})
	plan, err := Check(body, good)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if plan.Thing == nil || plan.Thing.Name != "DemoThing" || plan.Thing.Attributes["country"] != "IN" || plan.Thing.Attributes["version"] != "v1" {
		t.Fatalf("thing: %+v", plan.Thing)
	}
	if len(plan.Policies) != 1 || len(plan.Policies[0].Name) != 40 || !strings.Contains(plan.Policies[0].Document, "${iot:Connection.Thing.ThingName}") {
		t.Fatalf("policies: %+v", plan.Policies)
	}
	out := Describe(plan, pki.CertificateID(good.Raw))
	for _, want := range []string{"thing DemoThing", "attribute country = IN", "then ACTIVE", "policy " + plan.Policies[0].Name} {
		if !strings.Contains(out, want) {
			t.Errorf("Describe lacks %q:\n%s", want, out)
		}
	}

	bad, _ := pkitest.NewClient(t, ca, pkix.Name{CommonName: "NoCountry"})
	_, err = Check(body, bad)
	var f *failure
	if !errors.As(err, &f) || f.step != "render" || !strings.Contains(err.Error(), "AWS::IoT::Certificate::Country") || !strings.Contains(err.Error(), "no C (country) attribute") {
		t.Fatalf("Check without C: %v", err)
	}

	if _, err := Check(`{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::Contry"}}}}}`, good); err == nil ||
		!strings.Contains(err.Error(), `did you mean "AWS::IoT::Certificate::Country"`) {
		t.Fatalf("Check with a typo: %v", err)
	}
}
