package server_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// indexingDomainScript drives fleet indexing and domain configurations
// with boto3's iot and iot-data clients, as a Python user would, and
// prints what it saw as JSON.
const indexingDomainScript = `
import json, os
import boto3, botocore.config, botocore.exceptions
kw = dict(endpoint_url=os.environ["ENDPOINT"], region_name="us-east-2",
    aws_access_key_id=os.environ["KEY_ID"], aws_secret_access_key=os.environ["SECRET"],
    config=botocore.config.Config(retries={"max_attempts": 1}))
c = boto3.client("iot", **kw)
data = boto3.client("iot-data", **kw)
out = {}
def code(f, **kw):
    try:
        f(**kw)
        return "OK"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]

out["initial_mode"] = c.get_indexing_configuration()["thingIndexingConfiguration"]["thingIndexingMode"]
out["search_while_off"] = code(c.search_index, queryString="thingName:*")
c.update_indexing_configuration(
    thingIndexingConfiguration={"thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS"},
    thingGroupIndexingConfiguration={"thingGroupIndexingMode": "ON"})
cfg = c.get_indexing_configuration()
out["modes"] = [cfg["thingIndexingConfiguration"]["thingIndexingMode"], cfg["thingIndexingConfiguration"]["thingConnectivityIndexingMode"],
    cfg["thingGroupIndexingConfiguration"]["thingGroupIndexingMode"]]

c.create_thing_type(thingTypeName="Sensor")
for i in range(5):
    c.create_thing(thingName="sensor-%d" % i, thingTypeName="Sensor", attributePayload={"attributes": {"floor": str(i)}})
c.create_thing(thingName="pump-1")
c.create_thing_group(thingGroupName="plant", thingGroupProperties={"thingGroupDescription": "the plant"})
c.add_thing_to_thing_group(thingGroupName="plant", thingName="pump-1")

r = c.search_index(indexName="AWS_Things", queryString="thingTypeName:Sensor AND attributes.floor>=3")
out["range"] = [[t["thingName"], t["thingTypeName"], t["attributes"], len(t["thingId"]) > 0] for t in r["things"]]
# Written after the index was built: found at the next search.
data.update_thing_shadow(thingName="sensor-3", payload=json.dumps({"state": {"reported": {"temp": 22.5}}}))
r = c.search_index(queryString="shadow.reported.temp>22")
out["shadow"] = [[t["thingName"], json.loads(t["shadow"])["reported"]] for t in r["things"]]
out["groups_of_things"] = [[t["thingName"], t.get("thingGroupNames")] for t in c.search_index(queryString="thingGroupNames:plant")["things"]]
pages, token = [], None
while True:
    args = {"queryString": "thingName:sensor-*", "maxResults": 2}
    if token:
        args["nextToken"] = token
    r = c.search_index(**args)
    pages.append([t["thingName"] for t in r["things"]])
    token = r.get("nextToken")
    if not token:
        break
out["pages"] = pages
out["bad_query"] = code(c.search_index, queryString="thingName:(sensor")
out["bad_index"] = code(c.search_index, indexName="AWS_Nothing", queryString="thingName:*")
out["group_index"] = [g["thingGroupName"] for g in c.search_index(indexName="AWS_ThingGroups", queryString="thingGroupDescription:plant")["thingGroups"]]

d = c.create_domain_configuration(domainConfigurationName="factory", domainName="mqtt.factory.example", serviceType="DATA")
out["create_domain"] = [d["domainConfigurationName"], d["domainConfigurationArn"].startswith("arn:aws:iot:us-east-1:123456789012:domainconfiguration/factory/")]
dd = c.describe_domain_configuration(domainConfigurationName="factory")
out["describe_domain"] = [dd["domainName"], dd["domainType"], dd["domainConfigurationStatus"], dd["serviceType"]]
out["default_domain"] = c.describe_domain_configuration(domainConfigurationName="iot:Data-ATS")["domainName"] == \
    c.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
pages = c.get_paginator("list_domain_configurations").paginate(PaginationConfig={"PageSize": 3})
out["list_domains"] = [[x["domainConfigurationName"] for x in p["domainConfigurations"]] for p in pages]
out["delete_enabled"] = code(c.delete_domain_configuration, domainConfigurationName="factory")
c.update_domain_configuration(domainConfigurationName="factory", domainConfigurationStatus="DISABLED")
out["status_after_update"] = c.describe_domain_configuration(domainConfigurationName="factory")["domainConfigurationStatus"]
c.delete_domain_configuration(domainConfigurationName="factory")
out["deleted_describe"] = code(c.describe_domain_configuration, domainConfigurationName="factory")
print(json.dumps(out))
`

// TestFleetIndexingAndDomainsBoto3 checks fleet indexing and domain
// configurations with boto3, including a shadow written through its
// iot-data client and found by SearchIndex.
func TestFleetIndexingAndDomainsBoto3(t *testing.T) {
	ts := startServer(t)
	got := runBoto3Script(t, ts, indexingDomainScript)
	want := map[string]any{
		"initial_mode":     "OFF",
		"search_while_off": "ResourceNotFoundException",
		"modes":            []any{"REGISTRY_AND_SHADOW", "STATUS", "ON"},
		"range": []any{
			[]any{"sensor-3", "Sensor", map[string]any{"floor": "3"}, true},
			[]any{"sensor-4", "Sensor", map[string]any{"floor": "4"}, true},
		},
		"shadow":           []any{[]any{"sensor-3", map[string]any{"temp": 22.5}}},
		"groups_of_things": []any{[]any{"pump-1", []any{"plant"}}},
		"pages":            []any{[]any{"sensor-0", "sensor-1"}, []any{"sensor-2", "sensor-3"}, []any{"sensor-4"}},
		"bad_query":        "InvalidQueryException",
		"bad_index":        "ResourceNotFoundException",
		"group_index":      []any{"plant"},
		"create_domain":    []any{"factory", true},
		"describe_domain":  []any{"mqtt.factory.example", "CUSTOMER_MANAGED", "ENABLED", "DATA"},
		"default_domain":   true,
		"list_domains": []any{
			[]any{"factory", "iot:CredentialProvider", "iot:Data-ATS"},
			[]any{"iot:Jobs"},
		},
		"delete_enabled":      "InvalidRequestException",
		"status_after_update": "DISABLED",
		"deleted_describe":    "ResourceNotFoundException",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("what boto3 saw (-want +got):\n%s", d)
	}
}
