package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// foreignCases are documents checked against a server in us-east-2, account
// 123456789012.
var foreignCases = []struct {
	name string
	doc  string
	want []string // ForeignARN.String of each finding
}{
	{"same region and account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-2:123456789012:client/${iot:Connection.Thing.ThingName}"}]}`, nil},
	{"star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`, nil},
	{"wildcard region and account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/d1"}]}`, nil},
	{"region prefix wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-?:123456789012:client/d1"}]}`, nil},
	{"star across fields", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*client/d1"}]}`, nil},
	{"variable for the region", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:${aws:Region}:123456789012:client/d1"}]}`, nil},
	{"not an IoT ARN", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:s3:::bucket"}]}`, nil},
	{"other region", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:eu-west-1:123456789012:client/d1"}]}`,
		[]string{`Resource "arn:aws:iot:eu-west-1:123456789012:client/d1" names the region eu-west-1, but this server's region is us-east-2`}},
	{"other account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:us-east-2:123456789012:topic/a","arn:aws:iot:us-east-2:999999999999:topic/b"]}]}`,
		[]string{`Resource "arn:aws:iot:us-east-2:999999999999:topic/b" names the account 999999999999, but this server's account is 123456789012`}},
	{"other region, wildcard account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:ap-south-1:*:client/*"}]}`,
		[]string{`Resource "arn:aws:iot:ap-south-1:*:client/*" names the region ap-south-1, but this server's region is us-east-2`}},
	{"NotResource in another region", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Connect","NotResource":"arn:aws:iot:eu-west-1:123456789012:client/admin"}]}`,
		[]string{`NotResource "arn:aws:iot:eu-west-1:123456789012:client/admin" names the region eu-west-1, but this server's region is us-east-2`}},
	{"variables off: ${ is literal", `{"Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:${r}:123456789012:client/d1"}]}`,
		[]string{`Resource "arn:aws:iot:${r}:123456789012:client/d1" names the region ${r}, but this server's region is us-east-2`}},
}

func TestForeignARNs(t *testing.T) {
	for _, tc := range foreignCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range d.ForeignARNs("us-east-2", "123456789012") {
				got = append(got, f.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ForeignARNs (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzForeignARNs checks that ForeignARNs never panics and never reports
// a resource that matches one of the server's own ARNs.
func FuzzForeignARNs(f *testing.F) {
	for _, tc := range foreignCases {
		f.Add(tc.doc, "us-east-2", "123456789012")
	}
	f.Fuzz(func(t *testing.T, doc, region, account string) {
		d, err := Parse(doc)
		if err != nil {
			return
		}
		for _, fa := range d.ForeignARNs(region, account) {
			own := "arn:aws:iot:" + region + ":" + account + ":client/x"
			g := compileGlob(fa.Resource, false)
			if !d.VariablesEnabled() && g.match(own) {
				t.Errorf("%s reported, yet it matches %s", fa, own)
			}
		}
	})
}
