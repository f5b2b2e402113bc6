package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/server"
)

// TestBillingGroups drives every billing-group operation through the AWS
// SDK for Go v2: the answers' shapes, membership (a thing in at most one
// billing group), paging, tags and every error AWS gives.
func TestBillingGroups(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	c := ts.client
	const arn1 = "arn:aws:iot:us-east-1:123456789012:billinggroup/bg1"

	// Create, idempotent for the same configuration.
	created := must[*iot.CreateBillingGroupOutput](t)(c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{
		BillingGroupName:       aws.String("bg1"),
		BillingGroupProperties: &types.BillingGroupProperties{BillingGroupDescription: aws.String("plant 1")},
		Tags:                   []types.Tag{{Key: aws.String("cost-center"), Value: aws.String("cc-1")}},
	}))
	if *created.BillingGroupName != "bg1" || *created.BillingGroupArn != arn1 || len(*created.BillingGroupId) != 36 {
		t.Fatalf("CreateBillingGroup = %+v", created)
	}
	again := must[*iot.CreateBillingGroupOutput](t)(c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{
		BillingGroupName:       aws.String("bg1"),
		BillingGroupProperties: &types.BillingGroupProperties{BillingGroupDescription: aws.String("plant 1")},
	}))
	if *again.BillingGroupId != *created.BillingGroupId {
		t.Errorf("an identical CreateBillingGroup made a new group: id %s, want %s", *again.BillingGroupId, *created.BillingGroupId)
	}
	_, err := c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("bg1")})
	wantAPIError(t, err, "ResourceAlreadyExistsException")
	_, err = c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("has space")})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("bgx"),
		BillingGroupProperties: &types.BillingGroupProperties{BillingGroupDescription: aws.String("tab\there")}})
	wantAPIError(t, err, "InvalidRequestException")
	must[*iot.CreateBillingGroupOutput](t)(c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("bg2")}))

	// Describe.
	d := must[*iot.DescribeBillingGroupOutput](t)(c.DescribeBillingGroup(ctx, &iot.DescribeBillingGroupInput{BillingGroupName: aws.String("bg1")}))
	if *d.BillingGroupName != "bg1" || *d.BillingGroupArn != arn1 || *d.BillingGroupId != *created.BillingGroupId || d.Version != 1 ||
		aws.ToString(d.BillingGroupProperties.BillingGroupDescription) != "plant 1" || d.BillingGroupMetadata.CreationDate.IsZero() {
		t.Errorf("DescribeBillingGroup = %+v", d)
	}
	_, err = c.DescribeBillingGroup(ctx, &iot.DescribeBillingGroupInput{BillingGroupName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Update, with and without the expected version.
	u := must[*iot.UpdateBillingGroupOutput](t)(c.UpdateBillingGroup(ctx, &iot.UpdateBillingGroupInput{BillingGroupName: aws.String("bg1"),
		BillingGroupProperties: &types.BillingGroupProperties{BillingGroupDescription: aws.String("plant one")}, ExpectedVersion: aws.Int64(1)}))
	if u.Version != 2 {
		t.Errorf("UpdateBillingGroup version = %d, want 2", u.Version)
	}
	_, err = c.UpdateBillingGroup(ctx, &iot.UpdateBillingGroupInput{BillingGroupName: aws.String("bg1"),
		BillingGroupProperties: &types.BillingGroupProperties{}, ExpectedVersion: aws.Int64(1)})
	wantAPIError(t, err, "VersionConflictException")
	_, err = c.UpdateBillingGroup(ctx, &iot.UpdateBillingGroupInput{BillingGroupName: aws.String("nope"), BillingGroupProperties: &types.BillingGroupProperties{}})
	wantAPIError(t, err, "ResourceNotFoundException")
	d = must[*iot.DescribeBillingGroupOutput](t)(c.DescribeBillingGroup(ctx, &iot.DescribeBillingGroupInput{BillingGroupName: aws.String("bg1")}))
	if d.Version != 2 || aws.ToString(d.BillingGroupProperties.BillingGroupDescription) != "plant one" {
		t.Errorf("DescribeBillingGroup after the update = version %d, %+v", d.Version, d.BillingGroupProperties)
	}

	// Membership: CreateThing's billingGroupName, and by name or ARN.
	for _, name := range []string{"t1", "t2"} {
		must[*iot.CreateThingOutput](t)(c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(name)}))
	}
	must[*iot.CreateThingOutput](t)(c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t3"), BillingGroupName: aws.String("bg1")}))
	_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t4"), BillingGroupName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException")
	must[*iot.AddThingToBillingGroupOutput](t)(c.AddThingToBillingGroup(ctx, &iot.AddThingToBillingGroupInput{
		BillingGroupName: aws.String("bg1"), ThingName: aws.String("t1")}))
	must[*iot.AddThingToBillingGroupOutput](t)(c.AddThingToBillingGroup(ctx, &iot.AddThingToBillingGroupInput{
		BillingGroupArn: aws.String(arn1), ThingArn: aws.String("arn:aws:iot:us-east-1:123456789012:thing/t2")}))
	billingGroupOf := func(thing string) string {
		t.Helper()
		dt := must[*iot.DescribeThingOutput](t)(c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String(thing)}))
		return aws.ToString(dt.BillingGroupName)
	}
	for _, thing := range []string{"t1", "t2", "t3"} {
		if got := billingGroupOf(thing); got != "bg1" {
			t.Errorf("DescribeThing(%s).billingGroupName = %q, want bg1", thing, got)
		}
	}
	if got := listThingsInBillingGroup(t, c, "bg1", 2); !slices.Equal(got, []string{"t1", "t2", "t3"}) {
		t.Errorf("ListThingsInBillingGroup(bg1) by pages of 2 = %v, want [t1 t2 t3]", got)
	}

	// A thing is in one billing group at most: adding it to another moves it.
	must[*iot.AddThingToBillingGroupOutput](t)(c.AddThingToBillingGroup(ctx, &iot.AddThingToBillingGroupInput{
		BillingGroupName: aws.String("bg2"), ThingName: aws.String("t1")}))
	if got := billingGroupOf("t1"); got != "bg2" {
		t.Errorf("t1's billing group after adding it to bg2 = %q, want bg2", got)
	}
	if got := listThingsInBillingGroup(t, c, "bg1", 0); !slices.Equal(got, []string{"t2", "t3"}) {
		t.Errorf("ListThingsInBillingGroup(bg1) after the move = %v, want [t2 t3]", got)
	}

	// Remove; removing a thing from a group it is not in changes nothing.
	must[*iot.RemoveThingFromBillingGroupOutput](t)(c.RemoveThingFromBillingGroup(ctx, &iot.RemoveThingFromBillingGroupInput{
		BillingGroupName: aws.String("bg1"), ThingName: aws.String("t2")}))
	if got := billingGroupOf("t2"); got != "" {
		t.Errorf("t2's billing group after its removal = %q, want none", got)
	}
	must[*iot.RemoveThingFromBillingGroupOutput](t)(c.RemoveThingFromBillingGroup(ctx, &iot.RemoveThingFromBillingGroupInput{
		BillingGroupName: aws.String("bg1"), ThingName: aws.String("t1")}))
	if got := billingGroupOf("t1"); got != "bg2" {
		t.Errorf("t1's billing group after removing it from bg1, which it is not in = %q, want bg2", got)
	}

	// Membership errors.
	for _, tc := range []struct {
		name string
		in   iot.AddThingToBillingGroupInput
		code string
	}{
		{"missing thing", iot.AddThingToBillingGroupInput{BillingGroupName: aws.String("bg1"), ThingName: aws.String("nope")}, "ResourceNotFoundException"},
		{"missing group", iot.AddThingToBillingGroupInput{BillingGroupName: aws.String("nope"), ThingName: aws.String("t1")}, "ResourceNotFoundException"},
		{"no group", iot.AddThingToBillingGroupInput{ThingName: aws.String("t1")}, "InvalidRequestException"},
		{"no thing", iot.AddThingToBillingGroupInput{BillingGroupName: aws.String("bg1")}, "InvalidRequestException"},
		{"a thing group's ARN", iot.AddThingToBillingGroupInput{BillingGroupArn: aws.String("arn:aws:iot:us-east-1:123456789012:thinggroup/bg1"), ThingName: aws.String("t1")}, "InvalidRequestException"},
		{"bad group name", iot.AddThingToBillingGroupInput{BillingGroupName: aws.String("b g"), ThingName: aws.String("t1")}, "InvalidRequestException"},
	} {
		t.Run("add: "+tc.name, func(t *testing.T) {
			_, err := c.AddThingToBillingGroup(ctx, &tc.in)
			wantAPIError(t, err, tc.code)
		})
		t.Run("remove: "+tc.name, func(t *testing.T) {
			_, err := c.RemoveThingFromBillingGroup(ctx, &iot.RemoveThingFromBillingGroupInput{BillingGroupName: tc.in.BillingGroupName,
				BillingGroupArn: tc.in.BillingGroupArn, ThingName: tc.in.ThingName, ThingArn: tc.in.ThingArn})
			wantAPIError(t, err, tc.code)
		})
	}
	_, err = c.ListThingsInBillingGroup(ctx, &iot.ListThingsInBillingGroupInput{BillingGroupName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException")

	// ListBillingGroups: prefix and pages.
	must[*iot.CreateBillingGroupOutput](t)(c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("other")}))
	var names []string
	var pages int
	for p := iot.NewListBillingGroupsPaginator(c, &iot.ListBillingGroupsInput{NamePrefixFilter: aws.String("bg"), MaxResults: aws.Int32(1)}); p.HasMorePages(); pages++ {
		out := must[*iot.ListBillingGroupsOutput](t)(p.NextPage(ctx))
		for _, g := range out.BillingGroups {
			names = append(names, *g.GroupName)
			if want := "arn:aws:iot:us-east-1:123456789012:billinggroup/" + *g.GroupName; *g.GroupArn != want {
				t.Errorf("groupArn of %s = %s, want %s", *g.GroupName, *g.GroupArn, want)
			}
		}
	}
	if !slices.Equal(names, []string{"bg1", "bg2"}) || pages != 2 {
		t.Errorf("ListBillingGroups(prefix bg, maxResults 1) = %v in %d pages, want [bg1 bg2] in 2", names, pages)
	}
	all := must[*iot.ListBillingGroupsOutput](t)(c.ListBillingGroups(ctx, &iot.ListBillingGroupsInput{}))
	if len(all.BillingGroups) != 3 || all.NextToken != nil {
		t.Errorf("ListBillingGroups() = %d groups, next %v; want 3, none", len(all.BillingGroups), all.NextToken)
	}
	_, err = c.ListBillingGroups(ctx, &iot.ListBillingGroupsInput{MaxResults: aws.Int32(251)})
	wantAPIError(t, err, "InvalidRequestException")

	// Tags by the billing group's ARN.
	must[*iot.TagResourceOutput](t)(c.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String(arn1),
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}}))
	must[*iot.UntagResourceOutput](t)(c.UntagResource(ctx, &iot.UntagResourceInput{ResourceArn: aws.String(arn1), TagKeys: []string{"cost-center"}}))
	tags := must[*iot.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(arn1)}))
	if d := cmp.Diff([]types.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}, tags.Tags, cmp.AllowUnexported(types.Tag{})); d != "" {
		t.Errorf("tags of bg1 (-want +got):\n%s", d)
	}
	_, err = c.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String("arn:aws:iot:us-east-1:123456789012:billinggroup/nope"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Delete: the expected version, a group that holds things, a missing group.
	_, err = c.DeleteBillingGroup(ctx, &iot.DeleteBillingGroupInput{BillingGroupName: aws.String("bg1"), ExpectedVersion: aws.Int64(1)})
	wantAPIError(t, err, "VersionConflictException")
	must[*iot.DeleteBillingGroupOutput](t)(c.DeleteBillingGroup(ctx, &iot.DeleteBillingGroupInput{BillingGroupName: aws.String("bg1"), ExpectedVersion: aws.Int64(2)}))
	if got := billingGroupOf("t3"); got != "" {
		t.Errorf("t3's billing group after bg1 was deleted = %q, want none", got)
	}
	_, err = c.DescribeBillingGroup(ctx, &iot.DescribeBillingGroupInput{BillingGroupName: aws.String("bg1")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(arn1)})
	wantAPIError(t, err, "ResourceNotFoundException")
	must[*iot.DeleteBillingGroupOutput](t)(c.DeleteBillingGroup(ctx, &iot.DeleteBillingGroupInput{BillingGroupName: aws.String("bg1")}))
	// A new bg1 starts empty and untagged.
	must[*iot.CreateBillingGroupOutput](t)(c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("bg1")}))
	if got := listThingsInBillingGroup(t, c, "bg1", 0); len(got) != 0 {
		t.Errorf("things in a recreated bg1: %v, want none", got)
	}
	tags = must[*iot.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(arn1)}))
	if len(tags.Tags) != 0 {
		t.Errorf("tags of a recreated bg1: %v, want none", tags.Tags)
	}
}

// listThingsInBillingGroup lists a billing group's things with the SDK's
// paginator, size things a page (0: the default).
func listThingsInBillingGroup(t *testing.T, c *iot.Client, group string, size int32) []string {
	t.Helper()
	in := &iot.ListThingsInBillingGroupInput{BillingGroupName: aws.String(group)}
	if size > 0 {
		in.MaxResults = aws.Int32(size)
	}
	var names []string
	for p := iot.NewListThingsInBillingGroupPaginator(c, in); p.HasMorePages(); {
		out := must[*iot.ListThingsInBillingGroupOutput](t)(p.NextPage(context.Background()))
		if size > 0 && len(out.Things) > int(size) {
			t.Errorf("a page of %d things, want at most %d", len(out.Things), size)
		}
		names = append(names, out.Things...)
	}
	return names
}

// TestBillingGroupAndRoleAliasAudit checks that billing-group and role-alias
// changes are audited with what they are about, and reads are not.
func TestBillingGroupAndRoleAliasAudit(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	c := ts.client
	must[*iot.CreateBillingGroupOutput](t)(c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("bg1")}))
	must[*iot.CreateThingOutput](t)(c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t1")}))
	must[*iot.AddThingToBillingGroupOutput](t)(c.AddThingToBillingGroup(ctx, &iot.AddThingToBillingGroupInput{BillingGroupName: aws.String("bg1"), ThingName: aws.String("t1")}))
	must[*iot.DescribeBillingGroupOutput](t)(c.DescribeBillingGroup(ctx, &iot.DescribeBillingGroupInput{BillingGroupName: aws.String("bg1")}))
	must[*iot.CreateRoleAliasOutput](t)(c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("ra"), RoleArn: aws.String("arn:aws:iam::123456789012:role/r")}))
	must[*iot.ListRoleAliasesOutput](t)(c.ListRoleAliases(ctx, &iot.ListRoleAliasesInput{}))

	data, err := os.ReadFile(filepath.Join(ts.Config.DataDir, server.AuditLogFile))
	if err != nil {
		t.Fatal(err)
	}
	byOp := map[string]map[string]any{}
	for line := range strings.Lines(string(data)) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		byOp[rec["op"].(string)] = rec
	}
	for _, op := range []string{"DescribeBillingGroup", "ListRoleAliases"} {
		if byOp[op] != nil {
			t.Errorf("the read %s was audited: %v", op, byOp[op])
		}
	}
	if rec := byOp["AddThingToBillingGroup"]; rec == nil || rec["billingGroupName"] != "bg1" || rec["thingName"] != "t1" {
		t.Errorf("AddThingToBillingGroup's audit record = %v, want billingGroupName bg1 and thingName t1", rec)
	}
	if rec := byOp["CreateBillingGroup"]; rec == nil || rec["resource"].(map[string]any)["billingGroupName"] != "bg1" {
		t.Errorf("CreateBillingGroup's audit record = %v, want resource.billingGroupName bg1", rec)
	}
	if rec := byOp["CreateRoleAlias"]; rec == nil || rec["resource"].(map[string]any)["roleAlias"] != "ra" {
		t.Errorf("CreateRoleAlias's audit record = %v, want resource.roleAlias ra", rec)
	}
}

// TestRegisterThingBillingGroup checks a template's BillingGroup: a new
// thing goes in it, and a missing billing group fails the provisioning.
func TestRegisterThingBillingGroup(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	c := ts.client
	must[*iot.CreateBillingGroupOutput](t)(c.CreateBillingGroup(ctx, &iot.CreateBillingGroupInput{BillingGroupName: aws.String("bg1")}))
	body := func(group string) *string {
		return aws.String(`{"Parameters":{"ThingName":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing",` +
			`"Properties":{"ThingName":{"Ref":"ThingName"},"BillingGroup":"` + group + `"}}}}`)
	}
	must[*iot.RegisterThingOutput](t)(c.RegisterThing(ctx, &iot.RegisterThingInput{TemplateBody: body("bg1"), Parameters: map[string]string{"ThingName": "t1"}}))
	dt := must[*iot.DescribeThingOutput](t)(c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("t1")}))
	if aws.ToString(dt.BillingGroupName) != "bg1" {
		t.Errorf("billingGroupName of a thing RegisterThing created = %q, want bg1", aws.ToString(dt.BillingGroupName))
	}
	_, err := c.RegisterThing(ctx, &iot.RegisterThingInput{TemplateBody: body("nope"), Parameters: map[string]string{"ThingName": "t2"}})
	t.Logf("message: %s", wantAPIError(t, err, "ResourceRegistrationFailureException"))
	_, err = c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("t2")})
	wantAPIError(t, err, "ResourceNotFoundException")
}
