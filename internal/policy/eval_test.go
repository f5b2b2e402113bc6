package policy

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const arn = "arn:aws:iot:us-east-1:123456789012:"

// decideCases exercise evaluation; FuzzDecide is seeded from them.
var decideCases = []struct {
	name     string
	docs     []string
	vars     Vars
	action   string
	resource string
	req      MultiVars
	want     Decision
}{
	{
		name:   "no documents",
		action: "iot:Connect", resource: arn + "client/c1",
		want: ImplicitDeny,
	},
	{
		name:   "allow",
		docs:   []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"` + arn + `client/${iot:ClientId}"}}`},
		vars:   Vars{"iot:ClientId": "c1"},
		action: "iot:Connect", resource: arn + "client/c1",
		want: Allow,
	},
	{
		name:   "action case-insensitive",
		docs:   []string{`{"Statement":{"Effect":"Allow","Action":"IoT:connect","Resource":"*"}}`},
		action: "iot:Connect", resource: arn + "client/c1",
		want: Allow,
	},
	{
		name:   "other action",
		docs:   []string{`{"Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}}`},
		action: "iot:Publish", resource: arn + "topic/a",
		want: ImplicitDeny,
	},
	{
		name: "deny wins regardless of order",
		docs: []string{
			`{"Statement":{"Effect":"Deny","Action":"iot:Publish","Resource":"` + arn + `topic/a/*"}}`,
			`{"Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}`,
		},
		action: "iot:Publish", resource: arn + "topic/a/b",
		want: ExplicitDeny,
	},
	{
		name:   "deny without allow",
		docs:   []string{`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`},
		action: "iot:Publish", resource: arn + "topic/a",
		want: ExplicitDeny,
	},
	{
		name:   "unresolved variable",
		docs:   []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"` + arn + `client/${iot:Connection.Thing.ThingName}"}}`},
		vars:   Vars{"iot:ClientId": "c1"},
		action: "iot:Connect", resource: arn + "client/c1",
		want: ImplicitDeny,
	},
	{
		name:   "unsubstitutable value matches literally",
		docs:   []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Subscribe","Resource":"` + arn + `topicfilter/my/${iot:ClientId}/topic"}}`},
		vars:   Vars{"iot:ClientId": "+"},
		action: "iot:Subscribe", resource: arn + "topicfilter/my/+/topic",
		want: ImplicitDeny,
	},
	{
		name:   "request condition",
		docs:   []string{`{"Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":"PersistentConnect"}}}}`},
		action: "iot:Connect", resource: arn + "client/c1",
		req:  MultiVars{"iot:ConnectAttributes": {"LastWill", "PersistentConnect"}},
		want: Allow,
	},
	{
		name:   "request condition absent",
		docs:   []string{`{"Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":"PersistentConnect"}}}}`},
		action: "iot:Connect", resource: arn + "client/c1",
		want: ImplicitDeny,
	},
	{
		name:   "connection condition decided at compile",
		docs:   []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"iot:Connection.Thing.ThingTypeName":"sensor"}}}}`},
		vars:   Vars{"iot:Connection.Thing.ThingTypeName": "camera"},
		action: "iot:Publish", resource: arn + "topic/a",
		req:  MultiVars{"iot:Connection.Thing.ThingTypeName": {"sensor"}},
		want: ImplicitDeny,
	},
	{
		name:   "negated condition on absent key",
		docs:   []string{`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"iot:Connection.Thing.IsAttached":"true"}}}}`, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
		action: "iot:Connect", resource: arn + "client/c1",
		want: ExplicitDeny,
	},
	{
		name:   "source ip",
		docs:   []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24"]}}}}`},
		vars:   Vars{"aws:SourceIp": "192.0.2.7"},
		action: "iot:Connect", resource: arn + "client/c1",
		want: Allow,
	},
	{
		name:   "thing attribute in resource",
		docs:   []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Publish","Resource":"` + arn + `topic/site/${iot:Connection.Thing.Attributes[site]}/*"}}`},
		vars:   Vars{"iot:Connection.Thing.Attributes[site]": "lyon"},
		action: "iot:Publish", resource: arn + "topic/site/lyon/temp",
		want: Allow,
	},
	{
		name:   "shadow topic with dollar",
		docs:   []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Publish","Resource":"` + arn + `topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/update"}}`},
		vars:   Vars{"iot:Connection.Thing.ThingName": "t1"},
		action: "iot:Publish", resource: arn + "topic/$aws/things/t1/shadow/update",
		want: Allow,
	},
}

func compileCase(t testing.TB, docs []string, vars Vars, opts Options) *Set {
	t.Helper()
	var parsed []*Document
	for _, doc := range docs {
		d, err := Parse(doc)
		if err != nil {
			t.Fatalf("Parse(%s): %v", doc, err)
		}
		parsed = append(parsed, d)
	}
	var v Variables
	if vars != nil {
		v = vars
	}
	return CompileWith(parsed, v, opts)
}

func TestDecide(t *testing.T) {
	for _, tc := range decideCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range []Options{{}, {CacheSize: -1}} {
				s := compileCase(t, tc.docs, tc.vars, opts)
				var req Variables
				if tc.req != nil {
					req = tc.req
				}
				for i := range 2 { // the second call may come from the cache
					if got := s.Decide(tc.action, tc.resource, req); got != tc.want {
						t.Errorf("Decide(%q, %q) call %d with %+v = %v, want %v", tc.action, tc.resource, i+1, opts, got, tc.want)
					}
				}
				if got := s.Explain(tc.action, tc.resource, req).Decision; got != tc.want {
					t.Errorf("Explain(%q, %q).Decision = %v, want %v", tc.action, tc.resource, got, tc.want)
				}
			}
		})
	}
}

func TestExplain(t *testing.T) {
	s := compileCase(t, []string{
		`{"Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"},{"Effect":"Deny","Action":"iot:Connect","Resource":"` + arn + `client/bad"}]}`,
	}, nil, Options{})
	tests := []struct {
		name     string
		action   string
		resource string
		want     Explanation
	}{
		{"two allows", "iot:Connect", arn + "client/good", Explanation{Decision: Allow, Allowing: []StatementRef{{0, 0}, {0, 1}}}},
		{"deny", "iot:Connect", arn + "client/bad", Explanation{Decision: ExplicitDeny, Allowing: []StatementRef{{0, 0}, {0, 1}}, Denying: []StatementRef{{1, 1}}}},
		{"other document", "iot:Publish", arn + "topic/a", Explanation{Decision: Allow, Allowing: []StatementRef{{0, 0}, {1, 0}}}},
		{"nothing", "greengrass:Discover", arn + "thing/t", Explanation{Decision: ImplicitDeny}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, s.Explain(tc.action, tc.resource, nil)); diff != "" {
				t.Errorf("Explain mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNilSet(t *testing.T) {
	var s *Set
	if got := s.Decide("iot:Connect", arn+"client/c", nil); got != ImplicitDeny {
		t.Errorf("nil Set Decide = %v, want ImplicitDeny", got)
	}
	if got := s.Explain("iot:Connect", arn+"client/c", nil); got.Decision != ImplicitDeny {
		t.Errorf("nil Set Explain = %v, want ImplicitDeny", got.Decision)
	}
	if got := Compile([]*Document{nil}, nil).Decide("iot:Connect", arn+"client/c", nil); got != ImplicitDeny {
		t.Errorf("Set of a nil Document Decide = %v, want ImplicitDeny", got)
	}
}

func TestDecisionString(t *testing.T) {
	tests := []struct {
		d    Decision
		want string
	}{
		{ImplicitDeny, "IMPLICIT_DENY"},
		{Allow, "ALLOWED"},
		{ExplicitDeny, "EXPLICIT_DENY"},
		{Decision(7), "Decision(invalid)"},
	}
	for _, tc := range tests {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(tc.d), got, tc.want)
		}
	}
	var zero Decision
	if zero != ImplicitDeny || zero.Allowed() || !Allow.Allowed() || ExplicitDeny.Allowed() {
		t.Errorf("zero Decision or Allowed is wrong")
	}
}

func TestCacheBounded(t *testing.T) {
	s := compileCase(t, []string{`{"Statement":{"Effect":"Allow","Action":"iot:Publish","Resource":"` + arn + `topic/even/*"}}`}, nil, Options{CacheSize: 8})
	for i := range 100 {
		s.Decide("iot:Publish", fmt.Sprintf("%stopic/even/%d", arn, i), nil)
	}
	if n := s.cache.len(); n != 8 {
		t.Errorf("cache holds %d decisions, want 8", n)
	}
	for i := range 100 { // answers stay right whatever was evicted
		if got := s.Decide("iot:Publish", fmt.Sprintf("%stopic/even/%d", arn, i), nil); got != Allow {
			t.Fatalf("Decide #%d = %v, want Allow", i, got)
		}
	}
}

// TestCacheSkipsRequestContext checks that decisions that depend on the
// request context are not memoised.
func TestCacheSkipsRequestContext(t *testing.T) {
	s := compileCase(t, []string{`{"Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":"PersistentConnect"}}}}`}, nil, Options{})
	res := arn + "client/c1"
	if got := s.Decide("iot:Connect", res, MultiVars{"iot:ConnectAttributes": {"PersistentConnect"}}); got != Allow {
		t.Fatalf("Decide = %v, want Allow", got)
	}
	if got := s.Decide("iot:Connect", res, MultiVars{"iot:ConnectAttributes": {"LastWill"}}); got != ImplicitDeny {
		t.Fatalf("Decide with LastWill = %v, want ImplicitDeny", got)
	}
	if got := s.Decide("iot:Connect", res, nil); got != Allow {
		t.Fatalf("Decide without context = %v, want Allow", got)
	}
	if got := s.Decide("iot:Connect", res, MultiVars{"iot:ConnectAttributes": {"LastWill"}}); got != ImplicitDeny {
		t.Fatalf("Decide with LastWill after a cached nil-context decision = %v, want ImplicitDeny", got)
	}
}

func TestDecideConcurrent(t *testing.T) {
	s := compileCase(t, []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"` + arn + `topic/${iot:ClientId}/*"},{"Effect":"Deny","Action":"iot:Publish","Resource":"` + arn + `topic/c1/deny/*"}]}`}, Vars{"iot:ClientId": "c1"}, Options{CacheSize: 16})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				n := (g + i) % 40
				res := fmt.Sprintf("%stopic/c1/%d", arn, n)
				want := Allow
				if n%4 == 0 {
					res = fmt.Sprintf("%stopic/c1/deny/%d", arn, n)
					want = ExplicitDeny
				}
				if got := s.Decide("iot:Publish", res, nil); got != want {
					t.Errorf("Decide(%s) = %v, want %v", res, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
