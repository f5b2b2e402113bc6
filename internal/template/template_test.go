package template

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const jitpTemplate = `{
  "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"}, "Unused": {"Type": "String"},
                 "Site": {"Type": "String", "Default": "berlin", "Description": "where"}},
  "Resources": {
    "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
              "AttributePayload": {"site": {"Ref": "Site"}}}},
    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
    "pol": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "p"}},
    "doc": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": "{}"}}
  }
}`

func mustParse(t testing.TB, body string) *Template {
	t.Helper()
	tmpl, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tmpl
}

func TestTemplateAccessors(t *testing.T) {
	tmpl := mustParse(t, jitpTemplate)
	wantParams := []Parameter{
		{Name: ParamCommonName, Type: "String", Declared: true},
		{Name: "Unused", Type: "String", Declared: true},
		{Name: "Site", Type: "String", Default: "berlin", HasDefault: true, Declared: true},
		{Name: ParamID, Type: "String"},
	}
	if diff := cmp.Diff(wantParams, tmpl.Parameters()); diff != "" {
		t.Errorf("Parameters mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ParamCommonName, "Site", ParamID}, tmpl.References()); diff != "" {
		t.Errorf("References mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"thing", "certificate", "pol", "doc"}, tmpl.LogicalIDs()); diff != "" {
		t.Errorf("Template.LogicalIDs mismatch (-want +got):\n%s", diff)
	}
	res, err := tmpl.Render(map[string]string{ParamCommonName: "dev1", ParamID: testID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"thing", "certificate", "pol", "doc"}, res.LogicalIDs()); diff != "" {
		t.Errorf("Resources.LogicalIDs mismatch (-want +got):\n%s", diff)
	}
	if got := (&Resources{}).LogicalIDs(); len(got) != 0 {
		t.Errorf("empty Resources.LogicalIDs = %v", got)
	}
}

func TestErrorType(t *testing.T) {
	_, err := Parse(`{"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::Contry"}}}}}`)
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("Parse error %T is not an *Error", err)
	}
	if te.Path != "Resources.thing.Properties.ThingName" || te.Parameter != "" {
		t.Errorf("got %+v", te)
	}
	if !strings.HasPrefix(te.Message, `Ref to unknown parameter "AWS::IoT::Certificate::Contry"`) {
		t.Errorf("message %q", te.Message)
	}

	tmpl := mustParse(t, jitpTemplate)
	_, err = tmpl.Render(map[string]string{ParamID: testID}, map[string]string{ParamCommonName: "no CN"})
	if !errors.As(err, &te) {
		t.Fatalf("Render error %T is not an *Error", err)
	}
	want := &Error{Path: "Resources.thing.Properties.ThingName", Message: `parameter "AWS::IoT::Certificate::CommonName" has no value: no CN`, Parameter: ParamCommonName}
	if diff := cmp.Diff(want, te); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
	if got := (&Error{Message: "m"}).Error(); got != "m" {
		t.Errorf("Error() without path = %q", got)
	}
}

func TestCheckJITP(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"seed-like", jitpTemplate, ""},
		{"no certificate resource", `{"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}}}}`, ""},
		{"certificate by PEM",
			`{"Resources": {"c": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificatePem": "x"}}}}`,
			`Resources.c.Properties: a JITP template must name the certificate by CertificateId: {"Ref": "AWS::IoT::Certificate::Id"}`},
		{"parameter JITP cannot supply",
			`{"Parameters": {"ThingName": {"Type": "String"}}, "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "ThingName"}}}}}`,
			`Parameters.ThingName: the parameter has no Default, and JITP supplies only the AWS::IoT::Certificate::* parameters`},
		{"declared but unused parameter is fine",
			`{"Parameters": {"ThingName": {"Type": "String"}}, "Resources": {}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := mustParse(t, tc.body).CheckJITP()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("CheckJITP() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGeneratedPolicyName(t *testing.T) {
	// SHA-1 test vector from FIPS 180-2.
	if got, want := GeneratedPolicyName("abc"), "A9993E364706816ABA3E25717850C26C9CD0D89D"; got != want {
		t.Errorf("GeneratedPolicyName(abc) = %s, want %s", got, want)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`
	name := GeneratedPolicyName(doc)
	if len(name) != 40 || strings.ToUpper(name) != name {
		t.Errorf("name %q is not 40 upper-case hex characters", name)
	}
	if err := policyNameRule.check(name, ""); err != nil {
		t.Errorf("generated name breaks the policy name rule: %v", err)
	}
	if GeneratedPolicyName(doc+" ") == name {
		t.Error("different documents have the same name")
	}
}

// TestRenderConcurrent renders one Template from many goroutines (run
// with -race): a Template is immutable.
func TestRenderConcurrent(t *testing.T) {
	tmpl := mustParse(t, jitpTemplate)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := "dev" + strings.Repeat("x", i)
			res, err := tmpl.Render(map[string]string{ParamCommonName: name, ParamID: testID}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if res.Thing.ThingName != name {
				t.Errorf("ThingName = %q, want %q", res.Thing.ThingName, name)
			}
		})
	}
	wg.Wait()
}

// TestRenderDoesNotShareState checks that a rendered Resources is the
// caller's: changing it does not change the next Render.
func TestRenderDoesNotShareState(t *testing.T) {
	tmpl := mustParse(t, `{"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t", "ThingGroups": ["g"]}, "OverrideSettings": {"ThingGroups": "MERGE"}}}}`)
	a, err := tmpl.Render(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Thing.ThingGroups[0] = "changed"
	a.Thing.OverrideSettings["ThingGroups"] = "changed"
	b, err := tmpl.Render(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Thing.ThingGroups[0] != "g" || b.Thing.OverrideSettings["ThingGroups"] != OverrideMerge {
		t.Errorf("second Render sees the first's changes: %+v", b.Thing)
	}
}

func TestDidYouMean(t *testing.T) {
	candidates := []string{"Resources", "Parameters", "Ref", "AWS::IoT::Certificate::Country"}
	tests := []struct{ in, want string }{
		{"Resource", ` (did you mean "Resources"?)`},
		{"resources", ` (did you mean "Resources"?)`},
		{"ref", ` (did you mean "Ref"?)`},
		{"Rex", ` (did you mean "Ref"?)`},
		{"Rxy", ""}, // two edits: too many for a short name
		{"AWS::IoT::Certificate::Contry", ` (did you mean "AWS::IoT::Certificate::Country"?)`},
		{"Outputs", ""},
		{"Resources", ""},
		{strings.Repeat("x", 300), ""},
	}
	for _, tc := range tests {
		if got := didYouMean(tc.in, candidates); got != tc.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
