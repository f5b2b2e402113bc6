package registrytest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// ruleNames sort by bytes ("_" sorts between upper and lower case) and fit
// the model's RuleName pattern.
var ruleNames = []string{"A1", "B", "_u", "a", "a0", "a_1", "b", "z"}

// lambdaAction is an action as a client may send it: white space and member
// order are the client's, and must read back unchanged.
const lambdaAction = `{ "lambda" : {"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f"} }`

func newTopicRule(name string) *registry.TopicRule {
	return &registry.TopicRule{
		Name:        name,
		SQL:         "SELECT * FROM 'sensors/" + name + "'",
		Description: "rule " + name,
		Actions: []json.RawMessage{
			json.RawMessage(lambdaAction),
			json.RawMessage(`{"republish":{"topic":"out/${topic()}","roleArn":"arn:aws:iam::123456789012:role/r","qos":1}}`),
		},
		ErrorAction:  json.RawMessage(`{"republish":{"roleArn":"arn:aws:iam::123456789012:role/r","topic":"errors"}}`),
		SQLVersion:   "2016-03-23",
		TopicPattern: "sensors/" + name,
		CreatedAt:    at(time.Minute),
	}
}

func storedTopicRule(r *registry.TopicRule) *registry.TopicRule {
	c := *r
	c.Actions = slices.Clone(r.Actions)
	if c.Actions == nil {
		c.Actions = []json.RawMessage{}
	}
	c.CreatedAt = ms(c.CreatedAt)
	return &c
}

func getTopicRule(t *testing.T, s registry.Store, name string) (*registry.TopicRule, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.TopicRule, error) {
		return tx.TopicRule(ctx, name)
	})
}

func insertTopicRules(t *testing.T, s registry.Store, rules ...*registry.TopicRule) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, r := range rules {
			if err := tx.InsertTopicRule(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// rawText compares json.RawMessage values as the exact bytes they are.
var rawText = cmp.Transformer("rawText", func(m json.RawMessage) string { return "raw:" + string(m) })

func listTopicRuleNames(t *testing.T, s registry.Store, f registry.TopicRuleFilter) []string {
	t.Helper()
	rules := mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.TopicRule, error) {
		return tx.ListTopicRules(ctx, f, registry.Page{})
	})
	return keys(rules, topicRuleName)
}

func topicRuleName(r registry.TopicRule) string { return r.Name }

func boolPtr(b bool) *bool { return &b }

func testTopicRule(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getTopicRule(t, s, "nope")
			wantNotFound(t, "TopicRule", err)
			wantUpdateNotFound(t, s, "UpdateTopicRule", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateTopicRule(ctx, newTopicRule("nope"))
			})
			wantUpdateNotFound(t, s, "DeleteTopicRule", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteTopicRule(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newTopicRule("full")
			full.RuleDisabled = true
			bare := &registry.TopicRule{Name: "bare", SQL: "SELECT 1 FROM '#'", SQLVersion: registry.DefaultSQLVersion,
				TopicPattern: "#", Actions: []json.RawMessage{}}
			noActions := &registry.TopicRule{Name: "nil_actions", SQL: "SELECT 1 FROM 'a/+'", SQLVersion: "beta",
				TopicPattern: "a/+", CreatedAt: at(time.Hour)}
			insertTopicRules(t, s, full, bare, noActions)
			for _, want := range []*registry.TopicRule{storedTopicRule(full), storedTopicRule(bare), storedTopicRule(noActions)} {
				got, err := getTopicRule(t, s, want.Name)
				if err != nil {
					t.Fatalf("TopicRule(%q): %v", want.Name, err)
				}
				if got.Actions == nil {
					t.Errorf("TopicRule(%q).Actions is nil, want an empty slice", want.Name)
				}
				if want.ErrorAction == nil && got.ErrorAction != nil {
					t.Errorf("TopicRule(%q).ErrorAction = %q, want nil", want.Name, got.ErrorAction)
				}
				if d := cmp.Diff(want, got, rawText); d != "" {
					t.Errorf("TopicRule(%q) (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertTopicRules(t, s, newTopicRule("r1"))
			other := newTopicRule("r1")
			other.SQL = "SELECT 2 FROM 'other'"
			wantUpdateError(t, s, "InsertTopicRule of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertTopicRule(ctx, other)
			})
			if got, _ := getTopicRule(t, s, "r1"); !cmp.Equal(storedTopicRule(newTopicRule("r1")), got, rawText) {
				t.Errorf("topic rule after a failed insert (-want +got):\n%s", cmp.Diff(storedTopicRule(newTopicRule("r1")), got, rawText))
			}
		}},
		{"update and delete", func(t *testing.T, s registry.Store) {
			insertTopicRules(t, s, newTopicRule("r1"), newTopicRule("r2"))
			changed := newTopicRule("r1")
			changed.SQL, changed.TopicPattern = "SELECT * FROM 'other/#'", "other/#"
			changed.Actions = []json.RawMessage{json.RawMessage(`{"http":{"url":"https://example.com/x"}}`)}
			changed.ErrorAction = nil
			changed.Description, changed.RuleDisabled, changed.SQLVersion = "", true, "2015-10-08"
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateTopicRule(ctx, changed) })
			if got, _ := getTopicRule(t, s, "r1"); !cmp.Equal(storedTopicRule(changed), got, rawText) {
				t.Errorf("topic rule after update (-want +got):\n%s", cmp.Diff(storedTopicRule(changed), got, rawText))
			}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.DeleteTopicRule(ctx, "r1") })
			_, err := getTopicRule(t, s, "r1")
			wantNotFound(t, "deleted topic rule", err)
			if _, err := getTopicRule(t, s, "r2"); err != nil {
				t.Errorf("the other topic rule: %v", err)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			var want []registry.TopicRule
			for _, name := range slices.Backward(ruleNames) {
				insertTopicRules(t, s, newTopicRule(name))
			}
			for _, name := range ruleNames {
				want = append(want, *storedTopicRule(newTopicRule(name)))
			}
			checkPages(t, s, want, topicRuleName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.TopicRule, error) {
				return tx.ListTopicRules(ctx, registry.TopicRuleFilter{}, p)
			})
		}},
		{"list filters", func(t *testing.T, s registry.Store) {
			// Rules named for their topic (x or y) and state (on or off).
			var rules []*registry.TopicRule
			for _, name := range []string{"x_off_1", "x_on_1", "y_on_1", "x_off_2", "x_on_2", "y_off_1"} {
				r := newTopicRule(name)
				r.TopicPattern = name[:1] + "/+/data"
				r.RuleDisabled = name[2:4] == "of"
				rules = append(rules, r)
			}
			insertTopicRules(t, s, rules...)
			tests := []struct {
				name string
				f    registry.TopicRuleFilter
				want []string
			}{
				{"all", registry.TopicRuleFilter{}, []string{"x_off_1", "x_off_2", "x_on_1", "x_on_2", "y_off_1", "y_on_1"}},
				{"topic", registry.TopicRuleFilter{Topic: "x/+/data"}, []string{"x_off_1", "x_off_2", "x_on_1", "x_on_2"}},
				{"topic is not a prefix", registry.TopicRuleFilter{Topic: "x/+"}, nil},
				{"topic is not matched as a filter", registry.TopicRuleFilter{Topic: "x/1/data"}, nil},
				{"disabled", registry.TopicRuleFilter{RuleDisabled: boolPtr(true)}, []string{"x_off_1", "x_off_2", "y_off_1"}},
				{"enabled", registry.TopicRuleFilter{RuleDisabled: boolPtr(false)}, []string{"x_on_1", "x_on_2", "y_on_1"}},
				{"topic and enabled", registry.TopicRuleFilter{Topic: "x/+/data", RuleDisabled: boolPtr(false)}, []string{"x_on_1", "x_on_2"}},
			}
			for _, tt := range tests {
				if d := diff(tt.want, listTopicRuleNames(t, s, tt.f)); d != "" {
					t.Errorf("%s (-want +got):\n%s", tt.name, d)
				}
			}
			var want []registry.TopicRule
			for _, name := range []string{"x_off_1", "x_off_2"} {
				r := *storedTopicRule(newTopicRule(name))
				r.TopicPattern, r.RuleDisabled = "x/+/data", true
				want = append(want, r)
			}
			checkPages(t, s, want, topicRuleName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.TopicRule, error) {
				return tx.ListTopicRules(ctx, registry.TopicRuleFilter{Topic: "x/+/data", RuleDisabled: boolPtr(true)}, p)
			})
		}},
		{"service", testTopicRuleService},
	})
}

// testTopicRuleService checks the registry's topic-rule operations over the
// store: what the API and the rules engine see.
func testTopicRuleService(t *testing.T, s registry.Store) {
	ctx := t.Context()
	now := t0
	var mu sync.Mutex
	var events []registry.Event
	svc := &registry.Service{
		Store:   s,
		Account: iot.Account{ID: "123456789012", Region: "us-east-1"},
		Now:     func() time.Time { return now },
		Notify: func(e []registry.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e...)
		},
	}
	takeEvents := func() []registry.Event {
		mu.Lock()
		defer mu.Unlock()
		e := events
		events = nil
		return e
	}
	wantCode := func(what string, err error, code string) {
		t.Helper()
		if !iot.IsCode(err, code) {
			t.Errorf("%s: got error %v, want %s", what, err, code)
		}
	}
	rule := func(name, topic string) registry.TopicRule {
		return registry.TopicRule{
			Name:         name,
			SQL:          "SELECT * FROM '" + topic + "'",
			Actions:      []json.RawMessage{json.RawMessage(lambdaAction)},
			TopicPattern: topic,
		}
	}
	const arn = "arn:aws:iot:us-east-1:123456789012:rule/jitr"

	// Create, with tags; the SQL version defaults.
	created, err := svc.CreateTopicRule(ctx, rule("jitr", "$aws/events/certificates/registered/ca"), []iot.Tag{{Key: "team", Value: "fleet"}})
	if err != nil {
		t.Fatalf("CreateTopicRule: %v", err)
	}
	if created.ARN != arn || created.SQLVersion != registry.DefaultSQLVersion || !created.CreatedAt.Equal(ms(t0)) {
		t.Errorf("created rule: ARN %q, SQL version %q, created %v; want %q, %q, %v",
			created.ARN, created.SQLVersion, created.CreatedAt, arn, registry.DefaultSQLVersion, ms(t0))
	}
	if d := cmp.Diff([]registry.Event{{Kind: registry.TopicRuleChanged, ID: "jitr"}}, takeEvents()); d != "" {
		t.Errorf("events of CreateTopicRule (-want +got):\n%s", d)
	}
	got, err := svc.TopicRule(ctx, "jitr")
	if err != nil {
		t.Fatalf("TopicRule: %v", err)
	}
	if d := cmp.Diff(created, got, rawText); d != "" {
		t.Errorf("TopicRule after create (-want +got):\n%s", d)
	}
	tags, _, err := svc.ListTags(ctx, arn, registry.PageRequest{})
	if err != nil || !cmp.Equal(tags, []iot.Tag{{Key: "team", Value: "fleet"}}) {
		t.Errorf("tags of the rule: %v, %v; want team=fleet", tags, err)
	}

	// A duplicate name fails and changes nothing.
	_, err = svc.CreateTopicRule(ctx, rule("jitr", "other"), nil)
	wantCode("CreateTopicRule of a taken name", err, iot.ResourceAlreadyExists)
	var ae *iot.Error
	if errors.As(err, &ae) && ae.ResourceARN != arn {
		t.Errorf("ResourceAlreadyExistsException carries the ARN %q, want %q", ae.ResourceARN, arn)
	}
	if len(takeEvents()) != 0 {
		t.Errorf("a failed create sent events")
	}

	// Replace keeps the creation time and the tags.
	now = t0.Add(time.Hour)
	replacement := rule("jitr", "new/topic")
	replacement.Description, replacement.SQLVersion, replacement.RuleDisabled = "replaced", "2016-03-23", true
	replacement.ErrorAction = json.RawMessage(`{"republish":{"roleArn":"arn:aws:iam::123456789012:role/r","topic":"err"}}`)
	if _, err := svc.ReplaceTopicRule(ctx, replacement); err != nil {
		t.Fatalf("ReplaceTopicRule: %v", err)
	}
	got, err = svc.TopicRule(ctx, "jitr")
	if err != nil {
		t.Fatalf("TopicRule: %v", err)
	}
	want := replacement
	want.ARN, want.CreatedAt = arn, ms(t0)
	if d := cmp.Diff(&want, got, rawText); d != "" {
		t.Errorf("TopicRule after replace (-want +got):\n%s", d)
	}
	if tags, _, _ := svc.ListTags(ctx, arn, registry.PageRequest{}); len(tags) != 1 {
		t.Errorf("tags after replace: %v, want team=fleet", tags)
	}
	if d := cmp.Diff([]registry.Event{{Kind: registry.TopicRuleChanged, ID: "jitr"}}, takeEvents()); d != "" {
		t.Errorf("events of ReplaceTopicRule (-want +got):\n%s", d)
	}

	// Enable and disable, twice each.
	for _, disabled := range []bool{false, false, true, true, false} {
		if err := svc.SetTopicRuleDisabled(ctx, "jitr", disabled); err != nil {
			t.Fatalf("SetTopicRuleDisabled(%v): %v", disabled, err)
		}
		got, err := svc.TopicRule(ctx, "jitr")
		if err != nil || got.RuleDisabled != disabled || got.SQL != replacement.SQL {
			t.Errorf("after SetTopicRuleDisabled(%v): %+v, %v", disabled, got, err)
		}
	}
	if n := len(takeEvents()); n != 5 {
		t.Errorf("enable and disable sent %d events, want 5", n)
	}

	// Listing: paging, the topic filter, the state filter.
	for _, name := range []string{"r_c", "r_a", "r_b"} {
		if _, err := svc.CreateTopicRule(ctx, rule(name, "data/"+name[2:]), nil); err != nil {
			t.Fatalf("CreateTopicRule(%s): %v", name, err)
		}
	}
	if err := svc.SetTopicRuleDisabled(ctx, "r_b", true); err != nil {
		t.Fatal(err)
	}
	var names []string
	pr := registry.PageRequest{Size: 1}
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatalf("more than 4 pages of 1 rule")
		}
		rows, next, err := svc.ListTopicRules(ctx, registry.TopicRuleFilter{}, pr)
		if err != nil {
			t.Fatalf("ListTopicRules: %v", err)
		}
		for _, r := range rows {
			if r.ARN != svc.TopicRuleARN(r.Name) {
				t.Errorf("listed rule %s has ARN %q", r.Name, r.ARN)
			}
			names = append(names, r.Name)
		}
		if next == "" {
			break
		}
		pr.Token = next
	}
	if d := cmp.Diff([]string{"jitr", "r_a", "r_b", "r_c"}, names); d != "" {
		t.Errorf("pages of 1 rule (-want +got):\n%s", d)
	}
	listNames := func(f registry.TopicRuleFilter) []string {
		t.Helper()
		rows, next, err := svc.ListTopicRules(ctx, f, registry.PageRequest{Size: registry.MaxTopicRulePageSize})
		if err != nil || next != "" {
			t.Fatalf("ListTopicRules(%+v): next %q, %v", f, next, err)
		}
		return keys(rows, topicRuleName)
	}
	if d := diff([]string{"r_a"}, listNames(registry.TopicRuleFilter{Topic: "data/a"})); d != "" {
		t.Errorf("topic filter (-want +got):\n%s", d)
	}
	if d := diff([]string{"r_b"}, listNames(registry.TopicRuleFilter{RuleDisabled: boolPtr(true)})); d != "" {
		t.Errorf("disabled filter (-want +got):\n%s", d)
	}
	if d := diff([]string{"jitr", "r_a", "r_c"}, listNames(registry.TopicRuleFilter{RuleDisabled: boolPtr(false)})); d != "" {
		t.Errorf("enabled filter (-want +got):\n%s", d)
	}
	_, _, err = svc.ListTopicRules(ctx, registry.TopicRuleFilter{}, registry.PageRequest{Size: registry.MaxTopicRulePageSize + 1})
	wantCode("ListTopicRules with too large a page", err, iot.InvalidRequest)
	all, err := svc.AllTopicRules(ctx)
	if err != nil || len(all) != 4 || all[1].ARN != svc.TopicRuleARN("r_a") {
		t.Errorf("AllTopicRules: %d rules, %v; want 4 with ARNs", len(all), err)
	}
	takeEvents()

	// Delete removes the rule and its tags; a missing rule is UnauthorizedException.
	if err := svc.DeleteTopicRule(ctx, "jitr"); err != nil {
		t.Fatalf("DeleteTopicRule: %v", err)
	}
	if d := cmp.Diff([]registry.Event{{Kind: registry.TopicRuleChanged, ID: "jitr"}}, takeEvents()); d != "" {
		t.Errorf("events of DeleteTopicRule (-want +got):\n%s", d)
	}
	_, err = svc.TopicRule(ctx, "jitr")
	wantCode("TopicRule of a deleted rule", err, iot.Unauthorized)
	_, err = svc.ReplaceTopicRule(ctx, rule("jitr", "x"))
	wantCode("ReplaceTopicRule of a deleted rule", err, iot.Unauthorized)
	wantCode("enable a deleted rule", svc.SetTopicRuleDisabled(ctx, "jitr", false), iot.Unauthorized)
	wantCode("delete a deleted rule", svc.DeleteTopicRule(ctx, "jitr"), iot.Unauthorized)
	_, _, err = svc.ListTags(ctx, arn, registry.PageRequest{})
	wantCode("tags of a deleted rule", err, iot.ResourceNotFound)
	if len(takeEvents()) != 0 {
		t.Errorf("failed changes sent events")
	}
	// Recreated, it has no tags left over.
	if _, err := svc.CreateTopicRule(ctx, rule("jitr", "x"), nil); err != nil {
		t.Fatal(err)
	}
	if tags, _, err := svc.ListTags(ctx, arn, registry.PageRequest{}); err != nil || len(tags) != 0 {
		t.Errorf("tags of a recreated rule: %v, %v; want none", tags, err)
	}
	if err := svc.TagResource(ctx, arn, []iot.Tag{{Key: "k", Value: "v"}}); err != nil {
		t.Errorf("TagResource on a rule: %v", err)
	}
}
