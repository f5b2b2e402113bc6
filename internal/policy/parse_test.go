package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseCases complement the golden files with focused checks; FuzzParse is
// seeded from both. wantErr is a substring of the error, "" for success.
var parseCases = []struct {
	name    string
	doc     string
	wantErr string
}{
	{"minimal", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
	{"whitespace around", " \n\t{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}\r\n ", ""},
	{"effect lowercase", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"allow","Action":"*","Resource":"*"}]}`, `statement 2: "Effect" must be "Allow" or "Deny", got "allow"`},
	{"effect DENY", `{"Statement":{"Effect":"DENY","Action":"*","Resource":"*"}}`, `got "DENY"`},
	{"version null", `{"Version":null,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, `"Version" must be a string, got null`},
	{"sid type", `{"Statement":{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}}`, `"Sid" must be a string, got number`},
	{"id type", `{"Id":[],"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, `"Id" must be a string, got list`},
	{"NotResource and Resource", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}`, `"Resource" and "NotResource" must not both be present`},
	{"NotPrincipal", `{"Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"*","Resource":"*"}}`, `"NotPrincipal" is not supported`},
	{"action star prefix", `{"Statement":{"Effect":"Allow","Action":"*:Publish","Resource":"*"}}`, ""},
	{"action colon only", `{"Statement":{"Effect":"Allow","Action":":","Resource":"*"}}`, `not of the form "service:action"`},
	{"action control char", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:P\\u0000\",\"Resource\":\"*\"}}", "control character"},
	{"resource list with empty", `{"Statement":{"Effect":"Allow","Action":"*","Resource":["*",""]}}`, "a resource must not be empty"},
	{"resource number", `{"Statement":{"Effect":"Allow","Action":"*","Resource":1}}`, `"Resource" must be a string or a list of strings, got number`},
	{"condition empty object", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}}`, ""},
	{"condition operator empty object", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}}`, ""},
	{"condition empty key", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"":"a"}}}}`, "has an empty key"},
	{"condition nested list", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":[["a"]]}}}}`, "value 1 must be a string, number or boolean, got list"},
	{"condition NaN", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":"NaN"}}}}`, `value "NaN" is not a number`},
	{"condition numeric variable", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":"${iot:Connection.Thing.Attributes[n]}"}}}}`, ""},
	{"condition numeric variable before 2012", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":"${n}"}}}}`, `value "${n}" is not a number`},
	{"condition ip zone", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"fe80::1%eth0"}}}}`, "is not an IP address"},
	{"condition duplicate operator", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a":"true"},"Bool":{"b":"true"}}}}`, `"Condition" has the operator "Bool" twice`},
	{"duplicate in unknown value", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"},"X":{"a":1,"a":2}}`, `unknown key "X"`},
	{"bom", "\ufeff{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}", "not valid JSON"},
	{"deep nesting", strings.Repeat("[", 1000) + strings.Repeat("]", 1000), "must be a JSON object"},
	{"number top", `12`, "must be a JSON object, got number"},
	{"null", `null`, "must be a JSON object, got null"},
	{"unclosed string", `{"Statement`, "unexpected end of input"},
	{"invalid escape", `{"Statement":"\x"}`, "not valid JSON"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if d == nil {
					t.Fatal("Parse returned nil Document and nil error")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.wantErr)
			}
			if d != nil {
				t.Errorf("Parse returned a Document with an error")
			}
		})
	}
}

func TestParseDocument(t *testing.T) {
	doc := `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "c", "Effect": "Allow", "Action": "iot:Connect", "Resource": ["a", "b"],
	     "Condition": {"StringEquals": {"k1": "v", "k2": ["w", "x"]}, "Bool": {"k3": true}, "NumericLessThan": {"k4": 1.50}}},
	    {"Effect": "Deny", "NotAction": ["iot:Publish"], "NotResource": "c"}
	  ]
	}`
	want := &Document{
		Version: "2012-10-17",
		Statements: []Statement{
			{
				Sid: "c", Effect: EffectAllow, Actions: []string{"iot:Connect"}, Resources: []string{"a", "b"},
				Conditions: []Condition{
					{Operator: "StringEquals", Key: "k1", Values: []string{"v"}},
					{Operator: "StringEquals", Key: "k2", Values: []string{"w", "x"}},
					{Operator: "Bool", Key: "k3", Values: []string{"true"}},
					{Operator: "NumericLessThan", Key: "k4", Values: []string{"1.50"}},
				},
			},
			{Effect: EffectDeny, NotActions: []string{"iot:Publish"}, NotResources: []string{"c"}},
		},
	}
	got, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

// TestParseSize checks the limit counts characters, not bytes, and skips
// white space wherever it is, inside strings too.
func TestParseSize(t *testing.T) {
	build := func(resource string) string {
		return `{"Statement":{"Effect":"Allow","Action":"*","Resource":"` + resource + `"}}`
	}
	overhead := len(build(""))
	tests := []struct {
		name     string
		resource string
		wantErr  bool
	}{
		{"at limit", strings.Repeat("a", MaxDocumentSize-overhead), false},
		{"over limit", strings.Repeat("a", MaxDocumentSize-overhead+1), true},
		{"multibyte counts once", strings.Repeat("é", MaxDocumentSize-overhead), false},
		{"spaces inside strings do not count", strings.Repeat("a ", MaxDocumentSize-overhead), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(build(tc.resource))
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("Parse error = %v, want error: %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "the maximum is 2048") {
				t.Errorf("error %q does not state the limit", err)
			}
		})
	}
}

// TestMarshalRoundTrip checks that every valid golden document survives
// MarshalJSON and Parse unchanged.
func TestMarshalRoundTrip(t *testing.T) {
	for _, path := range goldenFiles(t, "parse") {
		g := readGolden(t, path)
		d, err := Parse(strings.TrimSuffix(g.one(t, "input"), "\n"))
		if err != nil {
			continue
		}
		raw, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: MarshalJSON: %v", path, err)
		}
		d2, err := Parse(string(raw))
		if err != nil {
			if strings.Contains(err.Error(), "the maximum is") {
				continue // the canonical form can be longer
			}
			t.Fatalf("%s: Parse(MarshalJSON) = %v\n%s", path, err, raw)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Errorf("%s: round trip mismatch (-before +after):\n%s", path, diff)
		}
	}
}

func TestReferences(t *testing.T) {
	d, err := Parse(`{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:r:a:client/${iot:ClientId}"},
	  {"Effect":"Allow","Action":"iot:Publish","NotResource":["x/${iot:Connection.Thing.ThingName}/${*}","${iot:ClientId}"],
	   "Condition":{"StringEquals":{"iot:ConnectAttributes":"${iot:Connection.Thing.Attributes[mode]}"},"Null":{"aws:SourceIp":"false"}}}
	]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aws:SourceIp", "iot:ClientId", "iot:ConnectAttributes", "iot:Connection.Thing.Attributes[mode]", "iot:Connection.Thing.ThingName"}
	if diff := cmp.Diff(want, d.References()); diff != "" {
		t.Errorf("References mismatch (-want +got):\n%s", diff)
	}
	old, err := Parse(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"${iot:ClientId}","Condition":{"Bool":{"k":"true"}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"k"}, old.References()); diff != "" {
		t.Errorf("References of a 2008 document mismatch (-want +got):\n%s", diff)
	}
}
