package server_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iottest"
)

// billingAliasScript drives billing groups and role aliases with boto3's
// iot client, as a Python user would, and prints what it saw as JSON.
const billingAliasScript = `
import json, os
import boto3, botocore.config, botocore.exceptions
c = boto3.client("iot", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-2",
    aws_access_key_id=os.environ["KEY_ID"], aws_secret_access_key=os.environ["SECRET"],
    config=botocore.config.Config(retries={"max_attempts": 1}))
out = {}
def code(f, **kw):
    try:
        f(**kw)
        return "OK"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]

g = c.create_billing_group(billingGroupName="Plant1", billingGroupProperties={"billingGroupDescription": "plant 1"},
    tags=[{"Key": "cost-center", "Value": "cc-1"}])
out["create_billing_group"] = [g["billingGroupName"], g["billingGroupArn"], len(g["billingGroupId"])]
d = c.describe_billing_group(billingGroupName="Plant1")
out["describe_billing_group"] = [d["version"], d["billingGroupProperties"], "creationDate" in d["billingGroupMetadata"]]
out["update_billing_group"] = c.update_billing_group(billingGroupName="Plant1",
    billingGroupProperties={"billingGroupDescription": "plant one"}, expectedVersion=1)["version"]
out["stale_update"] = code(c.update_billing_group, billingGroupName="Plant1", billingGroupProperties={}, expectedVersion=1)
c.create_thing(thingName="pump-1", billingGroupName="Plant1")
c.create_thing(thingName="pump-2")
c.add_thing_to_billing_group(billingGroupArn=g["billingGroupArn"], thingName="pump-2")
out["describe_thing"] = c.describe_thing(thingName="pump-2").get("billingGroupName")
pages = c.get_paginator("list_things_in_billing_group").paginate(billingGroupName="Plant1", PaginationConfig={"PageSize": 1})
out["list_things_in_billing_group"] = [p["things"] for p in pages]
out["list_billing_groups"] = [x["groupName"] for x in c.list_billing_groups(namePrefixFilter="Pl")["billingGroups"]]
c.remove_thing_from_billing_group(billingGroupName="Plant1", thingName="pump-1")
out["after_remove"] = c.list_things_in_billing_group(billingGroupName="Plant1")["things"]
out["tags"] = c.list_tags_for_resource(resourceArn=g["billingGroupArn"])["tags"]
c.delete_billing_group(billingGroupName="Plant1")
out["deleted_describe"] = code(c.describe_billing_group, billingGroupName="Plant1")
out["thing_after_delete"] = c.describe_thing(thingName="pump-2").get("billingGroupName")

a = c.create_role_alias(roleAlias="Telemetry", roleArn="arn:aws:iam::123456789012:role/Telemetry", credentialDurationSeconds=1800)
out["create_role_alias"] = [a["roleAlias"], a["roleAliasArn"]]
r = c.describe_role_alias(roleAlias="Telemetry")["roleAliasDescription"]
out["describe_role_alias"] = [r["roleArn"], r["owner"], r["credentialDurationSeconds"], r["creationDate"] == r["lastModifiedDate"]]
out["update_role_alias"] = c.update_role_alias(roleAlias="Telemetry", credentialDurationSeconds=7200)["roleAlias"]
out["duration_after_update"] = c.describe_role_alias(roleAlias="Telemetry")["roleAliasDescription"]["credentialDurationSeconds"]
for n in ["Alpha", "Beta"]:
    c.create_role_alias(roleAlias=n, roleArn="arn:aws:iam::123456789012:role/" + n)
pages = c.get_paginator("list_role_aliases").paginate(ascendingOrder=True, PaginationConfig={"PageSize": 2})
out["list_role_aliases"] = [p["roleAliases"] for p in pages]
out["bad_duration"] = code(c.create_role_alias, roleAlias="X", roleArn="arn:aws:iam::123456789012:role/X", credentialDurationSeconds=43201)
out["taken_alias"] = code(c.create_role_alias, roleAlias="Alpha", roleArn="arn:aws:iam::123456789012:role/Alpha")
c.delete_role_alias(roleAlias="Telemetry")
out["deleted_role_alias"] = code(c.delete_role_alias, roleAlias="Telemetry")
print(json.dumps(out))
`

// TestBillingGroupsAndRoleAliasesBoto3 checks billing groups and role
// aliases with boto3, whose paginators use the model's token names
// (nextToken for billing groups, marker/nextMarker for role aliases).
func TestBillingGroupsAndRoleAliasesBoto3(t *testing.T) {
	ts := startServer(t)
	got := runBoto3Script(t, ts, billingAliasScript)
	want := map[string]any{
		"create_billing_group":         []any{"Plant1", "arn:aws:iot:us-east-1:123456789012:billinggroup/Plant1", 36.0},
		"describe_billing_group":       []any{1.0, map[string]any{"billingGroupDescription": "plant 1"}, true},
		"update_billing_group":         2.0,
		"stale_update":                 "VersionConflictException",
		"describe_thing":               "Plant1",
		"list_things_in_billing_group": []any{[]any{"pump-1"}, []any{"pump-2"}},
		"list_billing_groups":          []any{"Plant1"},
		"after_remove":                 []any{"pump-2"},
		"tags":                         []any{map[string]any{"Key": "cost-center", "Value": "cc-1"}},
		"deleted_describe":             "ResourceNotFoundException",
		"thing_after_delete":           nil,
		"create_role_alias":            []any{"Telemetry", "arn:aws:iot:us-east-1:123456789012:rolealias/Telemetry"},
		"describe_role_alias":          []any{"arn:aws:iam::123456789012:role/Telemetry", "123456789012", 1800.0, true},
		"update_role_alias":            "Telemetry",
		"duration_after_update":        7200.0,
		"list_role_aliases":            []any{[]any{"Alpha", "Beta"}, []any{"Telemetry"}},
		"bad_duration":                 "InvalidRequestException",
		"taken_alias":                  "ResourceAlreadyExistsException",
		"deleted_role_alias":           "ResourceNotFoundException",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("what boto3 saw (-want +got):\n%s", d)
	}
}

// runBoto3Script runs a Python script that drives the server's API with
// boto3, its endpoint and keys in ENDPOINT, KEY_ID and SECRET, and returns
// the JSON object it printed.
func runBoto3Script(t *testing.T, ts *testServer, script string) map[string]any {
	t.Helper()
	iottest.NeedProgram(t, "python3", "-c", "import boto3")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", script)
	cmd.Env = append(os.Environ(), "ENDPOINT="+ts.APIURL(), "KEY_ID="+ts.Credentials.AccessKeyID,
		"SECRET="+ts.Credentials.SecretAccessKey, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, stderrOf(err))
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("boto3 printed %q: %v", out, err)
	}
	return got
}
