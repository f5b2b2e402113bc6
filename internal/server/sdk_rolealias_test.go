package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestRoleAliases drives every role-alias operation through the AWS SDK for
// Go v2: the answers' shapes, the marker paging of ListRoleAliases in both
// orders, tags and every error AWS gives.
func TestRoleAliases(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	c := ts.client
	const (
		role     = "arn:aws:iam::123456789012:role/DeviceTelemetry"
		aliasARN = "arn:aws:iot:us-east-1:123456789012:rolealias/telemetry"
	)

	created := must[*iot.CreateRoleAliasOutput](t)(c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{
		RoleAlias: aws.String("telemetry"), RoleArn: aws.String(role),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("fleet")}},
	}))
	if *created.RoleAlias != "telemetry" || *created.RoleAliasArn != aliasARN {
		t.Fatalf("CreateRoleAlias = %+v", created)
	}
	d := must[*iot.DescribeRoleAliasOutput](t)(c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("telemetry")})).RoleAliasDescription
	if *d.RoleAlias != "telemetry" || *d.RoleAliasArn != aliasARN || *d.RoleArn != role || *d.Owner != "123456789012" ||
		aws.ToInt32(d.CredentialDurationSeconds) != 3600 || d.CreationDate.IsZero() || !d.LastModifiedDate.Equal(*d.CreationDate) {
		t.Errorf("DescribeRoleAlias = %+v", d)
	}
	tags := must[*iot.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(aliasARN)}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "fleet" {
		t.Errorf("tags of the role alias = %+v, want team=fleet", tags.Tags)
	}

	// Create's errors.
	for _, tc := range []struct {
		name  string
		alias string
		role  string
		secs  *int32
		code  string
	}{
		{"taken alias, same role", "telemetry", role, nil, "ResourceAlreadyExistsException"},
		{"taken alias, another role", "telemetry", "arn:aws:iam::123456789012:role/Other", nil, "ResourceAlreadyExistsException"},
		{"bad alias", "has space", role, nil, "InvalidRequestException"},
		{"alias too long", strings.Repeat("a", 129), role, nil, "InvalidRequestException"},
		{"no role", "a1", "", nil, "InvalidRequestException"},
		{"not an IAM role", "a1", "arn:aws:iot:us-east-1:123456789012:thing/thing-1", nil, "InvalidRequestException"},
		{"an IAM user", "a1", "arn:aws:iam::123456789012:user/someone", nil, "InvalidRequestException"},
		{"duration below 900", "a1", role, aws.Int32(899), "InvalidRequestException"},
		{"duration 0", "a1", role, aws.Int32(0), "InvalidRequestException"},
		{"duration above 43200", "a1", role, aws.Int32(43201), "InvalidRequestException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String(tc.alias), RoleArn: aws.String(tc.role), CredentialDurationSeconds: tc.secs})
			t.Logf("message: %s", wantAPIError(t, err, tc.code))
		})
	}
	if _, err := c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("a1")}); err == nil {
		t.Error("a refused CreateRoleAlias created the alias")
	}
	_, err := c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Update: one field at a time, the bounds, a missing alias.
	up := must[*iot.UpdateRoleAliasOutput](t)(c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("telemetry"), CredentialDurationSeconds: aws.Int32(43200)}))
	if *up.RoleAlias != "telemetry" || *up.RoleAliasArn != aliasARN {
		t.Errorf("UpdateRoleAlias = %+v", up)
	}
	const role2 = "arn:aws:iam::123456789012:role/service-role/Telemetry2"
	must[*iot.UpdateRoleAliasOutput](t)(c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("telemetry"), RoleArn: aws.String(role2)}))
	d2 := must[*iot.DescribeRoleAliasOutput](t)(c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("telemetry")})).RoleAliasDescription
	if *d2.RoleArn != role2 || aws.ToInt32(d2.CredentialDurationSeconds) != 43200 || !d2.CreationDate.Equal(*d.CreationDate) || d2.LastModifiedDate.Before(*d.LastModifiedDate) {
		t.Errorf("DescribeRoleAlias after two updates = %+v", d2)
	}
	_, err = c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("telemetry"), CredentialDurationSeconds: aws.Int32(60)})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("telemetry"), RoleArn: aws.String("arn:aws:s3:::bucket-name-long")})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = c.UpdateRoleAlias(ctx, &iot.UpdateRoleAliasInput{RoleAlias: aws.String("nope"), CredentialDurationSeconds: aws.Int32(900)})
	wantAPIError(t, err, "ResourceNotFoundException")

	// ListRoleAliases: descending unless isAscendingOrder, pages by marker.
	for _, a := range []string{"b-alias", "a-alias", "d-alias", "c-alias"} {
		must[*iot.CreateRoleAliasOutput](t)(c.CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String(a), RoleArn: aws.String(role), CredentialDurationSeconds: aws.Int32(900)}))
	}
	asc := []string{"a-alias", "b-alias", "c-alias", "d-alias", "telemetry"}
	if got := listRoleAliases(t, c, true, 2); !slices.Equal(got, asc) {
		t.Errorf("ListRoleAliases(ascending, pageSize 2) = %v, want %v", got, asc)
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	if got := listRoleAliases(t, c, false, 3); !slices.Equal(got, desc) {
		t.Errorf("ListRoleAliases(pageSize 3) = %v, want %v", got, desc)
	}
	if got := listRoleAliases(t, c, false, 0); !slices.Equal(got, desc) {
		t.Errorf("ListRoleAliases() = %v, want %v", got, desc)
	}
	_, err = c.ListRoleAliases(ctx, &iot.ListRoleAliasesInput{PageSize: aws.Int32(0)})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = c.ListRoleAliases(ctx, &iot.ListRoleAliasesInput{Marker: aws.String("not base64!")})
	wantAPIError(t, err, "InvalidRequestException")

	// Delete: a missing alias is ResourceNotFoundException; tags go with it.
	must[*iot.DeleteRoleAliasOutput](t)(c.DeleteRoleAlias(ctx, &iot.DeleteRoleAliasInput{RoleAlias: aws.String("telemetry")}))
	_, err = c.DescribeRoleAlias(ctx, &iot.DescribeRoleAliasInput{RoleAlias: aws.String("telemetry")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = c.DeleteRoleAlias(ctx, &iot.DeleteRoleAliasInput{RoleAlias: aws.String("telemetry")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(aliasARN)})
	wantAPIError(t, err, "ResourceNotFoundException")
	if got := listRoleAliases(t, c, true, 0); !slices.Equal(got, asc[:4]) {
		t.Errorf("ListRoleAliases after the delete = %v, want %v", got, asc[:4])
	}
}

// listRoleAliases lists every role alias with the SDK's paginator, size a
// page (0: the default).
func listRoleAliases(t *testing.T, c *iot.Client, ascending bool, size int32) []string {
	t.Helper()
	in := &iot.ListRoleAliasesInput{AscendingOrder: ascending}
	if size > 0 {
		in.PageSize = aws.Int32(size)
	}
	var names []string
	for p := iot.NewListRoleAliasesPaginator(c, in); p.HasMorePages(); {
		out := must[*iot.ListRoleAliasesOutput](t)(p.NextPage(context.Background()))
		if size > 0 && len(out.RoleAliases) > int(size) {
			t.Errorf("a page of %d role aliases, want at most %d", len(out.RoleAliases), size)
		}
		names = append(names, out.RoleAliases...)
	}
	return names
}
