package awsapi_test

import (
	"net/http"
	"testing"
)

// TestBillingGroupAndRoleAliasRequests checks that every billing-group and
// role-alias operation is routed to the registry, and that what the API
// decides alone (page sizes, required members, the model's bounds) is
// refused before the registry is asked. The operations' behaviour is
// tested through the SDK in internal/server.
func TestBillingGroupAndRoleAliasRequests(t *testing.T) {
	const props = `{"billingGroupProperties":{"billingGroupDescription":"d"}}`
	tests := []struct {
		name, method, target, body string
		wantMsg                    string // "" means the request reaches the registry
	}{
		{"CreateBillingGroup", "POST", "/billing-groups/bg1", props, ""},
		{"DescribeBillingGroup", "GET", "/billing-groups/bg1", "", ""},
		{"UpdateBillingGroup", "PATCH", "/billing-groups/bg1", props, ""},
		{"DeleteBillingGroup", "DELETE", "/billing-groups/bg1?expectedVersion=2", "", ""},
		{"ListBillingGroups", "GET", "/billing-groups?namePrefixFilter=bg&maxResults=250", "", ""},
		{"AddThingToBillingGroup", "PUT", "/billing-groups/addThingToBillingGroup", `{"billingGroupName":"bg1","thingName":"t1"}`, ""},
		{"RemoveThingFromBillingGroup", "PUT", "/billing-groups/removeThingFromBillingGroup", `{"billingGroupName":"bg1","thingName":"t1"}`, ""},
		{"ListThingsInBillingGroup", "GET", "/billing-groups/bg1/things?maxResults=1", "", ""},
		{"CreateRoleAlias", "POST", "/role-aliases/ra", `{"roleArn":"arn:aws:iam::123456789012:role/r","credentialDurationSeconds":900}`, ""},
		{"DescribeRoleAlias", "GET", "/role-aliases/ra", "", ""},
		{"UpdateRoleAlias", "PUT", "/role-aliases/ra", `{"credentialDurationSeconds":43200}`, ""},
		{"DeleteRoleAlias", "DELETE", "/role-aliases/ra", "", ""},
		{"ListRoleAliases", "GET", "/role-aliases?pageSize=1&isAscendingOrder=true", "", ""},

		{"UpdateBillingGroup without properties", "PATCH", "/billing-groups/bg1", `{"expectedVersion":1}`, "billingGroupProperties is required"},
		{"DeleteBillingGroup with a bad version", "DELETE", "/billing-groups/bg1?expectedVersion=x", "", `query parameter expectedVersion must be an integer, got "x"`},
		{"ListBillingGroups maxResults=251", "GET", "/billing-groups?maxResults=251",
			"", "1 validation error detected: Value '251' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 250"},
		{"ListThingsInBillingGroup maxResults=0", "GET", "/billing-groups/bg1/things?maxResults=0",
			"", "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListRoleAliases pageSize=0", "GET", "/role-aliases?pageSize=0",
			"", "1 validation error detected: Value '0' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListRoleAliases isAscendingOrder=maybe", "GET", "/role-aliases?isAscendingOrder=maybe", "", `query parameter isAscendingOrder must be true or false, got "maybe"`},
		{"CreateRoleAlias credentialDurationSeconds=0", "POST", "/role-aliases/ra", `{"roleArn":"arn:aws:iam::123456789012:role/r","credentialDurationSeconds":0}`,
			"1 validation error detected: Value '0' at 'credentialDurationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, store := newAPI(t, nil)
			got := serve(t, api, signed{method: tt.method, target: tt.target, body: tt.body}.request(t))
			reached := store.calls.Load() > 0
			if tt.wantMsg == "" {
				if !reached {
					t.Fatalf("answer %d %s (%s), want the request to reach the registry", got.Status, got.Code, got.Message)
				}
				return
			}
			if reached || got.Status != http.StatusBadRequest || got.Code != "InvalidRequestException" || got.Message != tt.wantMsg {
				t.Fatalf("answer %d %s %q (registry asked: %v)\nwant 400 InvalidRequestException %q", got.Status, got.Code, got.Message, reached, tt.wantMsg)
			}
		})
	}
}
