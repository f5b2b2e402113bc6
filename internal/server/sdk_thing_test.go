package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func TestThings(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	attrs := map[string]string{"country": "IN", "version": "v1"}
	ct := must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{
		ThingName: aws.String("DemoThing"), AttributePayload: &types.AttributePayload{Attributes: attrs},
	}))
	if len(*ct.ThingId) != 36 || *ct.ThingArn != "arn:aws:iot:us-east-1:123456789012:thing/DemoThing" {
		t.Fatalf("CreateThing = %+v", ct)
	}
	// Idempotent for the same configuration, a conflict otherwise.
	again := must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{
		ThingName: aws.String("DemoThing"), AttributePayload: &types.AttributePayload{Attributes: attrs},
	}))
	if *again.ThingId != *ct.ThingId {
		t.Fatal("identical CreateThing made a new thing")
	}
	_, err := ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("DemoThing")})
	wantAPIError(t, err, "ResourceAlreadyExistsException")
	_, err = ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("has space")})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("x"), AttributePayload: &types.AttributePayload{Attributes: map[string]string{"a": "no spaces allowed"}}})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("x"), ThingTypeName: aws.String("NoSuchType")})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Thing types.
	must[*iot.CreateThingTypeOutput](t)(ts.client.CreateThingType(ctx, &iot.CreateThingTypeInput{
		ThingTypeName: aws.String("Sensor"), ThingTypeProperties: &types.ThingTypeProperties{ThingTypeDescription: aws.String("a sensor"), SearchableAttributes: []string{"country"}},
	}))
	_, err = ts.client.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("Sensor")})
	wantAPIError(t, err, "ResourceAlreadyExistsException")
	dtt := must[*iot.DescribeThingTypeOutput](t)(ts.client.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("Sensor")}))
	if *dtt.ThingTypeProperties.ThingTypeDescription != "a sensor" || dtt.ThingTypeMetadata.Deprecated {
		t.Fatalf("DescribeThingType = %+v", dtt)
	}
	for _, n := range []string{"sensor-1", "sensor-2", "sensor-3"} {
		must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{
			ThingName: aws.String(n), ThingTypeName: aws.String("Sensor"), AttributePayload: &types.AttributePayload{Attributes: map[string]string{"floor": "f" + n[len(n)-1:]}},
		}))
	}

	// UpdateThing: merge, removal by empty value, version checks.
	must[*iot.UpdateThingOutput](t)(ts.client.UpdateThing(ctx, &iot.UpdateThingInput{
		ThingName: aws.String("DemoThing"), ExpectedVersion: aws.Int64(1),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"version": "", "owner": "me"}, Merge: true},
	}))
	dt := must[*iot.DescribeThingOutput](t)(ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("DemoThing")}))
	if dt.Version != 2 || dt.Attributes["owner"] != "me" || dt.Attributes["country"] != "IN" || dt.Attributes["version"] != "" || *dt.DefaultClientId != "DemoThing" {
		t.Fatalf("after merge: %+v", dt)
	}
	_, err = ts.client.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("DemoThing"), ExpectedVersion: aws.Int64(1)})
	wantAPIError(t, err, "VersionConflictException")
	must[*iot.UpdateThingOutput](t)(ts.client.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("DemoThing"), ThingTypeName: aws.String("Sensor")}))

	// ListThings filters, and token pagination.
	byType := must[*iot.ListThingsOutput](t)(ts.client.ListThings(ctx, &iot.ListThingsInput{ThingTypeName: aws.String("Sensor")}))
	if len(byType.Things) != 4 {
		t.Fatalf("ListThings by type = %d things, want 4", len(byType.Things))
	}
	byAttr := must[*iot.ListThingsOutput](t)(ts.client.ListThings(ctx, &iot.ListThingsInput{AttributeName: aws.String("floor"), AttributeValue: aws.String("f2")}))
	if len(byAttr.Things) != 1 || *byAttr.Things[0].ThingName != "sensor-2" {
		t.Fatalf("ListThings by attribute = %+v", byAttr.Things)
	}
	byPrefix := must[*iot.ListThingsOutput](t)(ts.client.ListThings(ctx, &iot.ListThingsInput{AttributeName: aws.String("floor"), AttributeValue: aws.String("f"), UsePrefixAttributeValue: true}))
	if len(byPrefix.Things) != 3 {
		t.Fatalf("ListThings by prefix = %d things, want 3", len(byPrefix.Things))
	}
	var names []string
	p := iot.NewListThingsPaginator(ts.client, &iot.ListThingsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		for _, th := range must[*iot.ListThingsOutput](t)(p.NextPage(ctx)).Things {
			names = append(names, *th.ThingName)
		}
	}
	if strings.Join(names, ",") != "DemoThing,sensor-1,sensor-2,sensor-3" {
		t.Fatalf("paginated ListThings = %v", names)
	}
	_, err = ts.client.ListThings(ctx, &iot.ListThingsInput{NextToken: aws.String("!!not-a-token")})
	wantAPIError(t, err, "InvalidRequestException")

	// UpdateThingType replaces the properties it names and keeps the others.
	must[*iot.UpdateThingTypeOutput](t)(ts.client.UpdateThingType(ctx, &iot.UpdateThingTypeInput{
		ThingTypeName: aws.String("Sensor"), ThingTypeProperties: &types.ThingTypeProperties{SearchableAttributes: []string{"country", "floor"}},
	}))
	dtt = must[*iot.DescribeThingTypeOutput](t)(ts.client.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("Sensor")}))
	if *dtt.ThingTypeProperties.ThingTypeDescription != "a sensor" || strings.Join(dtt.ThingTypeProperties.SearchableAttributes, ",") != "country,floor" {
		t.Fatalf("DescribeThingType after UpdateThingType = %+v", dtt.ThingTypeProperties)
	}
	_, err = ts.client.UpdateThingType(ctx, &iot.UpdateThingTypeInput{ThingTypeName: aws.String("NoSuchType")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = ts.client.UpdateThingType(ctx, &iot.UpdateThingTypeInput{
		ThingTypeName: aws.String("Sensor"), ThingTypeProperties: &types.ThingTypeProperties{SearchableAttributes: []string{"a", "b", "c", "d"}},
	})
	wantAPIError(t, err, "InvalidRequestException")

	// Deprecation blocks new things and is needed before deletion.
	_, err = ts.client.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("Sensor")})
	wantAPIError(t, err, "InvalidRequestException")
	must[*iot.DeprecateThingTypeOutput](t)(ts.client.DeprecateThingType(ctx, &iot.DeprecateThingTypeInput{ThingTypeName: aws.String("Sensor")}))
	_, err = ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("late"), ThingTypeName: aws.String("Sensor")})
	wantAPIError(t, err, "InvalidRequestException")
	lt := must[*iot.ListThingTypesOutput](t)(ts.client.ListThingTypes(ctx, &iot.ListThingTypesInput{}))
	if len(lt.ThingTypes) != 1 || !lt.ThingTypes[0].ThingTypeMetadata.Deprecated {
		t.Fatalf("ListThingTypes = %+v", lt.ThingTypes)
	}
	_, err = ts.client.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("Sensor")})
	wantAPIError(t, err, "InvalidRequestException") // still used by things

	// DeleteThing: version check, missing things succeed.
	_, err = ts.client.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: aws.String("DemoThing"), ExpectedVersion: aws.Int64(1)})
	wantAPIError(t, err, "VersionConflictException")
	for _, n := range []string{"DemoThing", "sensor-1", "sensor-2", "sensor-3", "never-existed"} {
		must[*iot.DeleteThingOutput](t)(ts.client.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: aws.String(n)}))
	}
	must[*iot.DeleteThingTypeOutput](t)(ts.client.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("Sensor")}))
}

func TestThingGroups(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	must[*iot.CreateThingGroupOutput](t)(ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("plant")}))
	line := must[*iot.CreateThingGroupOutput](t)(ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{
		ThingGroupName: aws.String("line1"), ParentGroupName: aws.String("plant"),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("line one")},
	}))
	_, err := ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("orphan"), ParentGroupName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException")
	dg := must[*iot.DescribeThingGroupOutput](t)(ts.client.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String("line1")}))
	if *dg.ThingGroupId != *line.ThingGroupId || *dg.ThingGroupMetadata.ParentGroupName != "plant" ||
		len(dg.ThingGroupMetadata.RootToParentThingGroups) != 1 || *dg.ThingGroupProperties.ThingGroupDescription != "line one" {
		t.Fatalf("DescribeThingGroup = %+v", dg)
	}
	for _, n := range []string{"a", "b"} {
		must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(n)}))
	}
	must[*iot.AddThingToThingGroupOutput](t)(ts.client.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("line1"), ThingName: aws.String("a")}))
	must[*iot.AddThingToThingGroupOutput](t)(ts.client.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupArn: aws.String("arn:aws:iot:us-east-1:123456789012:thinggroup/plant"), ThingArn: aws.String("arn:aws:iot:us-east-1:123456789012:thing/b")}))
	_, err = ts.client.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("line1"), ThingName: aws.String("ghost")})
	wantAPIError(t, err, "ResourceNotFoundException")

	direct := must[*iot.ListThingsInThingGroupOutput](t)(ts.client.ListThingsInThingGroup(ctx, &iot.ListThingsInThingGroupInput{ThingGroupName: aws.String("plant")}))
	all := must[*iot.ListThingsInThingGroupOutput](t)(ts.client.ListThingsInThingGroup(ctx, &iot.ListThingsInThingGroupInput{ThingGroupName: aws.String("plant"), Recursive: true}))
	if strings.Join(direct.Things, ",") != "b" || strings.Join(all.Things, ",") != "a,b" {
		t.Fatalf("ListThingsInThingGroup direct=%v recursive=%v", direct.Things, all.Things)
	}
	groups := must[*iot.ListThingGroupsForThingOutput](t)(ts.client.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("a")}))
	if len(groups.ThingGroups) != 1 || *groups.ThingGroups[0].GroupName != "line1" {
		t.Fatalf("ListThingGroupsForThing = %+v", groups.ThingGroups)
	}
	lg := must[*iot.ListThingGroupsOutput](t)(ts.client.ListThingGroups(ctx, &iot.ListThingGroupsInput{}))
	children := must[*iot.ListThingGroupsOutput](t)(ts.client.ListThingGroups(ctx, &iot.ListThingGroupsInput{ParentGroup: aws.String("plant")}))
	if len(lg.ThingGroups) != 2 || len(children.ThingGroups) != 1 {
		t.Fatalf("ListThingGroups all=%d children=%d", len(lg.ThingGroups), len(children.ThingGroups))
	}
	uv := must[*iot.UpdateThingGroupOutput](t)(ts.client.UpdateThingGroup(ctx, &iot.UpdateThingGroupInput{
		ThingGroupName: aws.String("plant"), ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("the plant")},
	}))
	if uv.Version != 2 {
		t.Fatalf("UpdateThingGroup version = %d, want 2", uv.Version)
	}

	// UpdateThingGroupsForThing moves a thing in one call, or not at all.
	must[*iot.UpdateThingGroupsForThingOutput](t)(ts.client.UpdateThingGroupsForThing(ctx, &iot.UpdateThingGroupsForThingInput{
		ThingName: aws.String("b"), ThingGroupsToAdd: []string{"line1"}, ThingGroupsToRemove: []string{"plant"},
	}))
	groups = must[*iot.ListThingGroupsForThingOutput](t)(ts.client.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("b")}))
	if len(groups.ThingGroups) != 1 || *groups.ThingGroups[0].GroupName != "line1" {
		t.Fatalf("after UpdateThingGroupsForThing, b is in %+v, want line1 alone", groups.ThingGroups)
	}
	_, err = ts.client.UpdateThingGroupsForThing(ctx, &iot.UpdateThingGroupsForThingInput{
		ThingName: aws.String("b"), ThingGroupsToAdd: []string{"plant", "no-such-group"}, ThingGroupsToRemove: []string{"line1"},
	})
	wantAPIError(t, err, "ResourceNotFoundException")
	groups = must[*iot.ListThingGroupsForThingOutput](t)(ts.client.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("b")}))
	if len(groups.ThingGroups) != 1 || *groups.ThingGroups[0].GroupName != "line1" {
		t.Fatalf("a failed UpdateThingGroupsForThing changed b's groups: %+v", groups.ThingGroups)
	}
	must[*iot.UpdateThingGroupsForThingOutput](t)(ts.client.UpdateThingGroupsForThing(ctx, &iot.UpdateThingGroupsForThingInput{
		ThingName: aws.String("b"), ThingGroupsToAdd: []string{"plant"}, ThingGroupsToRemove: []string{"line1"},
	}))

	_, err = ts.client.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("plant")})
	wantAPIError(t, err, "InvalidRequestException") // has a child
	must[*iot.RemoveThingFromThingGroupOutput](t)(ts.client.RemoveThingFromThingGroup(ctx, &iot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("line1"), ThingName: aws.String("a")}))
	must[*iot.DeleteThingGroupOutput](t)(ts.client.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("line1")}))
	must[*iot.DeleteThingGroupOutput](t)(ts.client.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("plant")}))
	groups = must[*iot.ListThingGroupsForThingOutput](t)(ts.client.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("b")}))
	if len(groups.ThingGroups) != 0 {
		t.Fatalf("deleted group still listed for thing b: %+v", groups.ThingGroups)
	}
}

func TestThingPrincipals(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	kc := must[*iot.CreateKeysAndCertificateOutput](t)(ts.client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true}))
	for _, n := range []string{"t1", "t2"} {
		must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(n)}))
	}
	must[*iot.AttachThingPrincipalOutput](t)(ts.client.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("t1"), Principal: kc.CertificateArn, ThingPrincipalType: types.ThingPrincipalTypeExclusiveThing}))
	_, err := ts.client.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("t2"), Principal: kc.CertificateArn})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = ts.client.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String("nope"), Principal: kc.CertificateArn})
	wantAPIError(t, err, "ResourceNotFoundException")

	tp := must[*iot.ListThingPrincipalsOutput](t)(ts.client.ListThingPrincipals(ctx, &iot.ListThingPrincipalsInput{ThingName: aws.String("t1")}))
	if len(tp.Principals) != 1 || tp.Principals[0] != *kc.CertificateArn {
		t.Fatalf("ListThingPrincipals = %v", tp.Principals)
	}
	tp2 := must[*iot.ListThingPrincipalsV2Output](t)(ts.client.ListThingPrincipalsV2(ctx, &iot.ListThingPrincipalsV2Input{ThingName: aws.String("t1")}))
	if len(tp2.ThingPrincipalObjects) != 1 || tp2.ThingPrincipalObjects[0].ThingPrincipalType != types.ThingPrincipalTypeExclusiveThing {
		t.Fatalf("ListThingPrincipalsV2 = %+v", tp2.ThingPrincipalObjects)
	}
	pt := must[*iot.ListPrincipalThingsOutput](t)(ts.client.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: kc.CertificateArn}))
	if len(pt.Things) != 1 || pt.Things[0] != "t1" {
		t.Fatalf("ListPrincipalThings = %v", pt.Things)
	}
	pt2 := must[*iot.ListPrincipalThingsV2Output](t)(ts.client.ListPrincipalThingsV2(ctx, &iot.ListPrincipalThingsV2Input{Principal: kc.CertificateArn}))
	if len(pt2.PrincipalThingObjects) != 1 {
		t.Fatalf("ListPrincipalThingsV2 = %+v", pt2.PrincipalThingObjects)
	}
	_, err = ts.client.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: aws.String("t1")})
	wantAPIError(t, err, "InvalidRequestException")
	must[*iot.DetachThingPrincipalOutput](t)(ts.client.DetachThingPrincipal(ctx, &iot.DetachThingPrincipalInput{ThingName: aws.String("t1"), Principal: kc.CertificateArn}))
	must[*iot.DeleteThingOutput](t)(ts.client.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: aws.String("t1")}))
}

func TestTagsAndEndpoint(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ct := must[*iot.CreateThingGroupOutput](t)(ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{
		ThingGroupName: aws.String("g"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}},
	}))
	must[*iot.TagResourceOutput](t)(ts.client.TagResource(ctx, &iot.TagResourceInput{ResourceArn: ct.ThingGroupArn, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}}}))
	must[*iot.UntagResourceOutput](t)(ts.client.UntagResource(ctx, &iot.UntagResourceInput{ResourceArn: ct.ThingGroupArn, TagKeys: []string{"env"}}))
	tags := must[*iot.ListTagsForResourceOutput](t)(ts.client.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: ct.ThingGroupArn}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "fw" {
		t.Fatalf("ListTagsForResource = %+v", tags.Tags)
	}
	_, err := ts.client.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String("arn:aws:iot:us-east-1:123456789012:thing/missing"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantAPIError(t, err, "ResourceNotFoundException")

	for _, typ := range []string{"iot:Data-ATS", "iot:Data", "iot:CredentialProvider", "iot:Jobs"} {
		ep := must[*iot.DescribeEndpointOutput](t)(ts.client.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String(typ)}))
		if *ep.EndpointAddress != "localhost" {
			t.Errorf("DescribeEndpoint(%s) = %s, want localhost", typ, *ep.EndpointAddress)
		}
	}
	_, err = ts.client.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Bogus")})
	wantAPIError(t, err, "InvalidRequestException")
}

// TestUnsignedRequestsTouchNothing checks that only correctly signed requests get through.
func TestUnsignedRequestsTouchNothing(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	resp, err := http.Post(ts.APIURL()+"/things/intruder", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("unsigned request: %d %q", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	wrong := newClient(ts.APIURL(), ts.Credentials.AccessKeyID, "wrong-secret")
	_, err = wrong.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("intruder")})
	wantAPIError(t, err, "InvalidSignatureException")
	unknown := newClient(ts.APIURL(), "AKIAUNKNOWNKEY000000", "x")
	_, err = unknown.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("intruder")})
	wantAPIError(t, err, "UnrecognizedClientException")
	_, err = ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("intruder")})
	wantAPIError(t, err, "ResourceNotFoundException")
}
