package awsapi

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/registry"
)

// botocoreModel loads the operations of the AWS IoT API model that ships
// with botocore.
func botocoreModel(t *testing.T) map[string]modelOperation {
	t.Helper()
	return loadModel(t).Operations
}

// iotModel is the part of the botocore model the tests read.
type iotModel struct {
	Metadata struct {
		SigningName string `json:"signingName"`
	} `json:"metadata"`
	Operations map[string]modelOperation `json:"operations"`
	Shapes     map[string]modelShape     `json:"shapes"`
}

type modelShape struct {
	Type     string   `json:"type"`
	Min      *float64 `json:"min"`
	Max      *float64 `json:"max"`
	Required []string `json:"required"`
	Member   struct {
		Shape string `json:"shape"`
	} `json:"member"` // of a list
	Members map[string]struct {
		Shape        string `json:"shape"`
		Location     string `json:"location"`
		LocationName string `json:"locationName"`
	} `json:"members"`
}

// loadModel loads the AWS IoT API model that ships with botocore.
func loadModel(t *testing.T) iotModel {
	t.Helper()
	return loadServiceModel(t, "iot")
}

// loadServiceModel loads the botocore model of service (iot, iot-data),
// version 2015-05-28.
func loadServiceModel(t *testing.T, service string) iotModel {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		iottest.Missing(t, "python3 with botocore: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data", service, "2015-05-28")
	var r io.Reader
	if f, err := os.Open(filepath.Join(dir, "service-2.json")); err == nil {
		defer f.Close()
		r = f
	} else {
		f, err := os.Open(filepath.Join(dir, "service-2.json.gz"))
		if err != nil {
			t.Fatalf("botocore %s model not found in %s: %v", service, dir, err)
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	var model iotModel
	if err := json.NewDecoder(r).Decode(&model); err != nil {
		t.Fatalf("decode model: %v", err)
	}
	return model
}

type modelOperation struct {
	HTTP struct {
		Method     string `json:"method"`
		RequestURI string `json:"requestUri"`
	} `json:"http"`
	Input struct {
		Shape string `json:"shape"`
	} `json:"input"`
}

// TestRoutesMatchModel checks every served route against the model's method and URI.
func TestRoutesMatchModel(t *testing.T) {
	ops := botocoreModel(t)
	seen := map[string]bool{}
	for _, rt := range routes() {
		t.Run(rt.Op, func(t *testing.T) {
			if rt.Extension {
				if _, ok := ops[rt.Op]; ok || !strings.HasPrefix(rt.Pattern, "/iotcore/") {
					t.Fatalf("extension %s must be named unlike any AWS operation and live under /iotcore/", rt.Op)
				}
				return
			}
			if seen[rt.Op] {
				t.Fatalf("operation %s is routed twice", rt.Op)
			}
			seen[rt.Op] = true
			op, ok := ops[rt.Op]
			if !ok {
				t.Fatalf("operation %s is not in the model", rt.Op)
			}
			uri, _, _ := strings.Cut(op.HTTP.RequestURI, "?")
			if rt.Method != op.HTTP.Method || rt.Pattern != uri {
				t.Errorf("route %s %s, model says %s %s", rt.Method, rt.Pattern, op.HTTP.Method, uri)
			}
		})
	}
}

// TestRouterMatchesModelURIs feeds every modelled URI of a served operation
// through the router and checks it reaches that operation and no other.
func TestRouterMatchesModelURIs(t *testing.T) {
	ops := botocoreModel(t)
	r := newRouter(routes())
	for _, rt := range routes() {
		if rt.Extension {
			continue
		}
		op := ops[rt.Op]
		uri, _, _ := strings.Cut(op.HTTP.RequestURI, "?")
		// Fill labels with a value containing characters that need escaping.
		path := uri
		for strings.Contains(path, "{") {
			i := strings.Index(path, "{")
			j := strings.Index(path, "}")
			path = path[:i] + "arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc" + path[j+1:]
		}
		got, labels, _ := r.match(op.HTTP.Method, path)
		if got == nil || got.Op != rt.Op {
			name := "nothing"
			if got != nil {
				name = got.Op
			}
			t.Errorf("%s %s routed to %s, want %s", op.HTTP.Method, path, name, rt.Op)
			continue
		}
		for k, v := range labels {
			if v != "arn:aws:iot:us-east-1:123456789012:cert/abc" {
				t.Errorf("%s: label %s = %q, want the decoded ARN", rt.Op, k, v)
			}
		}
	}
}

// TestPageSizesMatchModel checks that the bounds pageSize applies to every
// maxResults and pageSize query member are the model's, for each served
// operation that has one; ListTopicRules has bounds of its own
// (rulePageSize).
func TestPageSizesMatchModel(t *testing.T) {
	m := loadModel(t)
	maxOf := map[string]int{"ListTopicRules": registry.MaxTopicRulePageSize}
	checked := 0
	for _, rt := range routes() {
		op, ok := m.Operations[rt.Op]
		if !ok {
			continue
		}
		for name, member := range m.Shapes[op.Input.Shape].Members {
			if member.Location != "querystring" || (member.LocationName != "maxResults" && member.LocationName != "pageSize") {
				continue
			}
			checked++
			sh := m.Shapes[member.Shape]
			maxSize := registry.MaxPageSize
			if n, ok := maxOf[rt.Op]; ok {
				maxSize = n
			}
			if sh.Min == nil || sh.Max == nil || *sh.Min != float64(minPageSize) || *sh.Max != float64(maxSize) {
				t.Errorf("%s.%s: the model bounds it to %v..%v, iotcore to %d..%d",
					rt.Op, name, orNone(sh.Min), orNone(sh.Max), minPageSize, maxSize)
			}
		}
	}
	if checked < 15 {
		t.Fatalf("checked only %d page-size members", checked)
	}
}

func orNone(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}

// TestTopicRuleActionsMatchModel checks registry.TopicRuleActions, the
// actions a rule may have and the members each requires, against the
// model's Action structure, and the action limit against ActionList's.
func TestTopicRuleActionsMatchModel(t *testing.T) {
	m := loadModel(t)
	want := map[string][]string{}
	for name, member := range m.Shapes["Action"].Members {
		req := slices.Clone(m.Shapes[member.Shape].Required)
		slices.Sort(req)
		want[name] = req
	}
	got := map[string][]string{}
	for name, req := range registry.TopicRuleActions {
		req = slices.Clone(req)
		slices.Sort(req)
		got[name] = req
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("registry.TopicRuleActions (-model +iotcore):\n%s", d)
	}
	if l := m.Shapes["ActionList"]; l.Max == nil || *l.Max != registry.MaxTopicRuleActions {
		t.Errorf("ActionList: the model bounds it to %v, iotcore to %d", orNone(l.Max), registry.MaxTopicRuleActions)
	}
	if r := m.Shapes["RuleName"]; r.Max == nil || *r.Max != float64(registry.RuleNameRule.Max) {
		t.Errorf("RuleName: the model bounds it to %v, iotcore to %d", orNone(r.Max), registry.RuleNameRule.Max)
	}
}

// TestDataRoutesMatchModel checks the data-plane routes against botocore's
// iot-data model: its signing name, each route's method and URI, that no
// route is also a control-plane operation, and that no modelled iot-data
// URI reaches a control-plane route (an unimplemented data-plane operation
// must be told so, not answered by the control plane).
func TestDataRoutesMatchModel(t *testing.T) {
	m := loadServiceModel(t, "iot-data")
	if m.Metadata.SigningName != DataPlaneSigningName {
		t.Errorf("iot-data signs %q, DataPlaneSigningName is %q", m.Metadata.SigningName, DataPlaneSigningName)
	}
	control := botocoreModel(t)
	for _, rt := range dataRoutes() {
		t.Run(rt.Op, func(t *testing.T) {
			if !rt.dataPlane {
				t.Errorf("%s is not marked dataPlane", rt.Op)
			}
			if _, ok := control[rt.Op]; ok {
				t.Errorf("%s is also a control-plane operation", rt.Op)
			}
			op, ok := m.Operations[rt.Op]
			if !ok {
				t.Fatalf("operation %s is not in the iot-data model", rt.Op)
			}
			uri, _, _ := strings.Cut(op.HTTP.RequestURI, "?")
			if rt.Method != op.HTTP.Method || rt.Pattern != uri {
				t.Errorf("route %s %s, model says %s %s", rt.Method, rt.Pattern, op.HTTP.Method, uri)
			}
		})
	}
	if sh := m.Shapes["Qos"]; sh.Min == nil || sh.Max == nil || *sh.Min != 0 || *sh.Max != 1 {
		t.Errorf("Qos: the model bounds it to %v..%v, iotcore to 0..1", orNone(sh.Min), orNone(sh.Max))
	}
	data, ctl := newRouter(dataRoutes()), newRouter(routes())
	for name, op := range m.Operations {
		uri, _, _ := strings.Cut(op.HTTP.RequestURI, "?")
		path := strings.NewReplacer("{topic}", "a%2Fb%24c", "{clientId}", "c1", "{thingName}", "t1").Replace(uri)
		if got, _, _ := ctl.match(op.HTTP.Method, path); got != nil {
			t.Errorf("iot-data %s (%s %s) reaches the control-plane %s", name, op.HTTP.Method, path, got.Op)
		}
		got, labels, _ := data.match(op.HTTP.Method, path)
		served := slices.ContainsFunc(dataRoutes(), func(rt route) bool { return rt.Op == name })
		switch {
		case served && (got == nil || got.Op != name):
			t.Errorf("%s %s does not reach %s", op.HTTP.Method, path, name)
		case !served && got != nil:
			t.Errorf("%s %s, not served, reaches %s", op.HTTP.Method, path, got.Op)
		case served && strings.Contains(uri, "{topic}") && labels["topic"] != "a/b$c":
			t.Errorf("%s: topic = %q, want a/b$c", name, labels["topic"])
		}
	}
}
