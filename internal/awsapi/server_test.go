package awsapi_test

import (
	"net/http"
	"testing"
)

// TestPageSizeValidated checks maxResults and pageSize against the model's
// bounds (1..250) before the registry is asked, with AWS's validation message
// (issue 11 item 12: maxResults=0 was read as "the default").
func TestPageSizeValidated(t *testing.T) {
	tests := []struct {
		name, target string
		wantMsg      string // "" means the request reaches the registry
	}{
		{"maxResults=0", "/things?maxResults=0",
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"maxResults=-1", "/thing-groups?maxResults=-1",
			"1 validation error detected: Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"maxResults=251", "/thing-types?maxResults=251",
			"1 validation error detected: Value '251' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 250"},
		{"pageSize=0", "/policies?pageSize=0",
			"1 validation error detected: Value '0' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"pageSize=251", "/certificates?pageSize=251",
			"1 validation error detected: Value '251' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 250"},
		{"maxResults not a number", "/things?maxResults=x", "query parameter maxResults must be an integer, got \"x\""},
		{"maxResults=1", "/things?maxResults=1", ""},
		{"maxResults=250", "/things?maxResults=250", ""},
		{"pageSize=250", "/policies?pageSize=250", ""},
		{"no page size", "/things", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, store := newAPI(t, nil)
			got := serve(t, api, signed{target: tt.target}.request(t))
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

// TestJSONBodyIsOneValue checks that a body with content after its JSON
// object is refused as malformed JSON (issue 11 item 12: it was accepted).
func TestJSONBodyIsOneValue(t *testing.T) {
	tests := []struct {
		name, body string
		wantCode   string // "" means the request reaches the registry
	}{
		{"an object", `{"attributePayload":{"attributes":{"a":"b"}}}`, ""},
		{"an object and white space", "{}\r\n\t ", ""},
		{"an empty body", "", ""},
		{"a word after the object", `{"a":1} x`, "InvalidRequestException"},
		{"two objects", `{}{}`, "InvalidRequestException"},
		{"an array after the object", `{} []`, "InvalidRequestException"},
		{"a number after the object", "{}\n1", "InvalidRequestException"},
		{"not JSON", `x`, "InvalidRequestException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, store := newAPI(t, nil)
			got := serve(t, api, signed{method: "POST", target: "/things/t1", body: tt.body}.request(t))
			reached := store.calls.Load() > 0
			if tt.wantCode == "" {
				if !reached {
					t.Fatalf("answer %d %s (%s), want the request to reach the registry", got.Status, got.Code, got.Message)
				}
				return
			}
			if reached || got.Status != http.StatusBadRequest || got.Code != tt.wantCode {
				t.Fatalf("answer %d %s (%s), registry asked: %v; want 400 %s", got.Status, got.Code, got.Message, reached, tt.wantCode)
			}
			t.Logf("message: %s", got.Message)
		})
	}
}
