package server_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/google/go-cmp/cmp"
)

// TestThingOverrideSettings applies a template to a thing that exists, with
// each OverrideSettings value for each thing property (reference 5.4).
func TestThingOverrideSettings(t *testing.T) {
	type want struct {
		attrs  map[string]string
		groups []string
		typ    string
	}
	unchanged := want{map[string]string{"a": "1", "b": "2"}, []string{"g1"}, ""}
	for _, tc := range []struct {
		name      string
		overrides string // the OverrideSettings JSON object
		want      want
		wantErr   bool
	}{
		{"no settings leave the thing alone", `{}`, unchanged, false},
		{"AttributePayload DO_NOTHING", `{"AttributePayload":"DO_NOTHING"}`, unchanged, false},
		{"AttributePayload REPLACE", `{"AttributePayload":"REPLACE"}`, want{map[string]string{"b": "3", "c": "4"}, []string{"g1"}, ""}, false},
		{"AttributePayload MERGE", `{"AttributePayload":"MERGE"}`, want{map[string]string{"a": "1", "b": "3", "c": "4"}, []string{"g1"}, ""}, false},
		{"AttributePayload FAIL", `{"AttributePayload":"FAIL"}`, unchanged, true},
		{"ThingGroups MERGE", `{"ThingGroups":"MERGE"}`, want{unchanged.attrs, []string{"g1", "g2"}, ""}, false},
		{"ThingGroups REPLACE", `{"ThingGroups":"REPLACE"}`, want{unchanged.attrs, []string{"g2"}, ""}, false},
		{"ThingGroups FAIL", `{"ThingGroups":"FAIL"}`, unchanged, true},
		{"ThingTypeName REPLACE", `{"ThingTypeName":"REPLACE"}`, want{unchanged.attrs, []string{"g1"}, "Sensor"}, false},
		{"ThingTypeName FAIL", `{"ThingTypeName":"FAIL"}`, unchanged, true},
		{"all at once", `{"AttributePayload":"MERGE","ThingGroups":"REPLACE","ThingTypeName":"REPLACE"}`,
			want{map[string]string{"a": "1", "b": "3", "c": "4"}, []string{"g2"}, "Sensor"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			ctx := context.Background()
			must[*iot.CreateThingTypeOutput](t)(ts.client.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("Sensor")}))
			for _, g := range []string{"g1", "g2"} {
				must[*iot.CreateThingGroupOutput](t)(ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String(g)}))
			}
			must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{
				ThingName: aws.String("t1"), AttributePayload: &types.AttributePayload{Attributes: map[string]string{"a": "1", "b": "2"}},
			}))
			must[*iot.AddThingToThingGroupOutput](t)(ts.client.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("g1"), ThingName: aws.String("t1")}))

			body := fmt.Sprintf(`{"Parameters":{"ThingName":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing",`+
				`"Properties":{"ThingName":{"Ref":"ThingName"},"AttributePayload":{"b":"3","c":"4"},"ThingGroups":["g2"],"ThingTypeName":"Sensor"},`+
				`"OverrideSettings":%s}}}`, tc.overrides)
			_, err := ts.client.RegisterThing(ctx, &iot.RegisterThingInput{TemplateBody: aws.String(body), Parameters: map[string]string{"ThingName": "t1"}})
			if tc.wantErr {
				t.Logf("message: %s", wantAPIError(t, err, "ResourceRegistrationFailureException"))
			} else if err != nil {
				t.Fatalf("RegisterThing: %v", err)
			}
			th := must[*iot.DescribeThingOutput](t)(ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("t1")}))
			groups := must[*iot.ListThingGroupsForThingOutput](t)(ts.client.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("t1")}))
			var names []string
			for _, g := range groups.ThingGroups {
				names = append(names, *g.GroupName)
			}
			slices.Sort(names)
			got := want{th.Attributes, names, aws.ToString(th.ThingTypeName)}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); d != "" {
				t.Errorf("thing after RegisterThing (-want +got):\n%s", d)
			}
		})
	}
}
