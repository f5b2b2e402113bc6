package template

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPolicyDocuments(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want []Policy
	}{
		{"literal document", `{"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":"{\"Statement\":[]}"}}}}`,
			[]Policy{{LogicalID: "p", PolicyDocument: `{"Statement":[]}`}}},
		{"named policy left out", `{"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"x"}}}}`, nil},
		{"certificate parameter is a wildcard", `{"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":{"Fn::Sub":"{\"Resource\":\"arn:aws:iot:eu-west-1:1:client/${AWS::IoT::Certificate::CommonName}\"}"}}}}}`,
			[]Policy{{LogicalID: "p", PolicyDocument: `{"Resource":"arn:aws:iot:eu-west-1:1:client/*"}`}}},
		{"default taken", `{"Parameters":{"Region":{"Type":"String","Default":"eu-west-1"}},"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":{"Resource":{"Fn::Join":["",["arn:aws:iot:",{"Ref":"Region"},":1:client/x"]]}}}}}}`,
			[]Policy{{LogicalID: "p", PolicyDocument: `{"Resource":"arn:aws:iot:eu-west-1:1:client/x"}`}}},
		{"unrenderable left out", `{"Parameters":{"N":{"Type":"String"}},"Mappings":{"m":{"a":{"b":"c"}}},"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":{"Fn::FindInMap":["m",{"Ref":"N"},"b"]}}}}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, tc.body).PolicyDocuments()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PolicyDocuments (-want +got):\n%s", diff)
			}
		})
	}
}
