package fleetindex

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustShadow decodes a shadow document or fails the test.
func mustShadow(t testing.TB, doc string) *Shadow {
	t.Helper()
	s, err := DecodeShadow([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fleet is the fixture: mything1 and mything2 are the two things of the
// search-index response in [DOC managing-index]; the others cover what
// that example lacks.
func fleet(t testing.TB) []*Thing {
	return []*Thing{
		{
			Name:         "mything1",
			ID:           "a4b9f759-b0f2-4857-8a4b-967745ed9f4e",
			Groups:       []string{"mygroup1"},
			Attributes:   map[string]string{"attribute1": "abc"},
			Version:      1,
			Connectivity: &Connectivity{Connected: false, Timestamp: 1556649874716, DisconnectReason: "CLIENT_INITIATED_DISCONNECT"},
		},
		{
			Name:       "mything2",
			ID:         "01014ef9-e97e-44c6-985a-d0b06924f2af",
			TypeName:   "MyThingType",
			Groups:     []string{"mygroup1", "mygroup2"},
			Attributes: map[string]string{"model": "1.2", "country": "usa"},
			Version:    3,
			Shadows: map[string]*Shadow{"": mustShadow(t, `{
				"state": {
					"desired": {"location": "new york", "myvalues": [3, 4, 5]},
					"reported": {"location": "new york", "myvalues": [1, 2, 3], "stats": {"battery": 78}}
				},
				"metadata": {
					"desired": {"location": {"timestamp": 123456789}, "myvalues": {"timestamp": 123456789}},
					"reported": {"location": {"timestamp": 34535454}, "myvalues": {"timestamp": 34535454},
						"stats": {"battery": {"timestamp": 34535454}}}
				},
				"version": 10, "timestamp": 34535454}`)},
			Connectivity: &Connectivity{Connected: true, Timestamp: 1556649855046},
		},
		{
			Name:       "tv-oled-55",
			TypeName:   "tv",
			Groups:     []string{"living"},
			Attributes: map[string]string{"model": "legacy", "serialNumber": "abce", "attr1": "abc", "attr2": "4", "attr3": "10", "dotted.key": "x"},
			Shadows: map[string]*Shadow{
				"":       mustShadow(t, `{"state":{"reported":{"stats":{"battery":90},"firmware":"v2","on":true,"a.b":"dotted"}},"version":4}`),
				"config": mustShadow(t, `{"state":{"desired":{"mode":"eco"},"reported":{"mode":"boost","list":[{"k":"one"},{"k":"two"}]}},"version":7}`),
			},
			Connectivity: &Connectivity{Connected: true, Timestamp: 1557700000000},
		},
		{
			Name:       "TV-Plasma-42",
			TypeName:   "tv",
			Attributes: map[string]string{"model": "plasma", "attr1": "abc", "attr2": "7", "attr3": "11", "serialNumber": "abcg"},
			Shadows: map[string]*Shadow{
				"": mustShadow(t, `{"state":{"reported":{"stats":{"battery":70},"firmware":"v3","temp":21.5}},"version":2}`),
			},
			DeviceDefender: map[string]any{"violationCount": 2.0, "prof": map[string]any{"beh": map[string]any{"inViolation": true}}},
		},
		{
			Name:       "sensor-1",
			TypeName:   "sensor",
			Attributes: map[string]string{"floor": "3", "myAttribute": "75"},
		},
		{
			Name:       "sensor-2",
			TypeName:   "sensor",
			Attributes: map[string]string{"floor": "12", "myAttribute": "80", "serialNumber": "ABCD"},
		},
	}
}

func matching(q *Query, things []*Thing) []string {
	var out []string
	for _, th := range things {
		if q.Match(th) {
			out = append(out, th.Name)
		}
	}
	return out
}

var all = []string{"mything1", "mything2", "tv-oled-55", "TV-Plasma-42", "sensor-1", "sensor-2"}

func except(names ...string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(s string) bool { return slices.Contains(names, s) })
}

// matchCases: query and the fixture things it matches, in fixture order.
var matchCases = []struct {
	name  string
	query string
	want  []string
}{
	// Golden examples from [DOC example-queries], quoted as the page has them.
	{"doc: abc in any field", `abc`, []string{"mything1", "tv-oled-55", "TV-Plasma-42"}},
	{"doc: thingName", `thingName:myThingName`, nil},
	{"doc: thingName exact", `thingName:mything2`, []string{"mything2"}},
	{"doc: thingName prefix", `thingName:my*`, []string{"mything1", "mything2"}},
	{"doc: thingName one char", `thingName:mything?`, []string{"mything1", "mything2"}},
	{"doc: thingTypeName", `thingTypeName:aa`, nil},
	{"doc: thingTypeName matches", `thingTypeName:MyThingType`, []string{"mything2"}},
	{"doc: thingGroupNames", `thingGroupNames:mygroup2`, []string{"mything2"}},
	{"doc: thingGroupNames wildcard", `thingGroupNames:mygroup*`, []string{"mything1", "mything2"}},
	{"doc: attribute value", `attributes.myAttribute:75`, []string{"sensor-1"}},
	{"doc: numeric range inclusive", `attributes.myAttribute:[75 TO 80]`, []string{"sensor-1", "sensor-2"}},
	{"doc: numeric range half open", `attributes.myAttribute:{75 TO 80]`, []string{"sensor-2"}},
	{"doc: string range", `attributes.serialNumber:["abcd" TO "abcf"]`, []string{"tv-oled-55", "sensor-2"}},
	{"doc: wildcard inside", `attributes.model:l*y`, []string{"tv-oled-55"}},
	{"doc: boolean expression", `attributes.attr1:abc AND attributes.attr2<5 NOT attributes.attr3>10`, []string{"tv-oled-55"}},
	{"doc: hasDelta", `shadow.hasDelta:true`, []string{"mything2"}},
	{"doc: NOT model legacy", `NOT attributes.model:legacy`, except("tv-oled-55")},
	{"doc: battery range, words, NOT", `shadow.reported.stats.battery:{70 TO 100} (v2 OR v3) NOT attributes.model:legacy`, nil},
	{"doc: battery range, words", `shadow.reported.stats.battery:{70 TO 100} (v2 OR v3)`, []string{"tv-oled-55"}},
	{"doc: array contains", `shadow.reported.myvalues:2`, []string{"mything2"}},
	{"doc: exists and not exists", `shadow.reported.location:* NOT shadow.desired.stats.battery:*`, []string{"mything2"}},
	{"doc: connected", `connectivity.connected:true`, []string{"mything2", "tv-oled-55"}},
	{"doc: disconnected", `connectivity.connected:false`, []string{"mything1"}},
	{"doc: connected in window", `connectivity.connected:true AND connectivity.timestamp : [1557651600000 TO 1557867600000]`, []string{"tv-oled-55"}},
	{"doc: connected after", `connectivity.connected:true AND connectivity.timestamp > 1557651600000`, []string{"tv-oled-55"}},
	{"doc: connectivity present", `connectivity.connected:*`, []string{"mything1", "mything2", "tv-oled-55"}},
	// [DOC query-syntax]
	// Words are split at white space only, so "TV-Plasma-42" is one word
	// and not the word plasma.
	{"doc: hyphen excludes in a field group", `thingName:(tv* AND -plasma)`, []string{"tv-oled-55", "TV-Plasma-42"}},
	{"hyphen excludes a pattern", `thingName:(tv* AND -*plasma*)`, []string{"tv-oled-55"}},
	{"doc: default operator is AND", `thingName:mything2 thingTypeName:MyThingType`, []string{"mything2"}},
	{"doc: star matches all", `*`, all},
	{"doc: search is case insensitive", `thingName:MYTHING1`, []string{"mything1"}},

	// Operators and precedence.
	{"OR", `thingName:sensor-1 OR thingName:sensor-2`, []string{"sensor-1", "sensor-2"}},
	{"AND binds tighter than OR", `thingName:sensor-1 OR thingTypeName:tv AND attributes.model:plasma`, []string{"TV-Plasma-42", "sensor-1"}},
	{"parentheses", `(thingName:sensor-1 OR thingTypeName:tv) AND attributes.model:plasma`, []string{"TV-Plasma-42"}},
	{"NOT binds tighter than AND", `NOT thingTypeName:tv AND NOT thingTypeName:sensor`, []string{"mything1", "mything2"}},
	{"NOT of a group", `NOT (thingTypeName:tv OR thingTypeName:sensor)`, []string{"mything1", "mything2"}},
	{"double NOT", `NOT NOT thingTypeName:sensor`, []string{"sensor-1", "sensor-2"}},
	{"&& || !", `thingTypeName:sensor && !attributes.floor:3 || thingName:mything1`, []string{"mything1", "sensor-2"}},
	{"plus is nothing", `+thingTypeName:sensor`, []string{"sensor-1", "sensor-2"}},
	{"lowercase and is a word", `thingTypeName:sensor and`, nil},
	{"field group OR", `thingName:(sensor-1 OR mything1)`, []string{"mything1", "sensor-1"}},

	// Values.
	{"numeric attribute compare", `attributes.floor>5`, []string{"sensor-2"}},
	{"numeric not lexicographic", `attributes.floor:[2 TO 4]`, []string{"sensor-1"}},
	{"string compare", `attributes.model>=legacy`, []string{"tv-oled-55", "TV-Plasma-42"}},
	{"string range exclusive both", `attributes.serialNumber:{abcd TO abcg}`, []string{"tv-oled-55"}},
	{"open range", `attributes.floor:[10 TO *]`, []string{"sensor-2"}},
	{"less or equal", `shadow.reported.stats.battery<=70`, []string{"TV-Plasma-42"}},
	{"non-number out of numeric range", `attributes.model:[0 TO 100]`, []string{"mything2"}},
	{"JSON number equals by value", `shadow.reported.stats.battery:78.0`, []string{"mything2"}},
	{"decimal JSON number", `shadow.reported.temp:[21 TO 22]`, []string{"TV-Plasma-42"}},
	{"string attribute equals as text", `attributes.model:1.20`, nil},
	{"negative number", `shadow.reported.temp>-5`, []string{"TV-Plasma-42"}},
	{"boolean shadow value", `shadow.reported.on:TRUE`, []string{"tv-oled-55"}},
	{"phrase", `shadow.reported.location:"new york"`, []string{"mything2"}},
	{"phrase wrong order", `shadow.reported.location:"york new"`, nil},
	{"one word of a text value", `shadow.desired.location:york`, []string{"mything2"}},
	{"bare phrase", `"NEW YORK"`, []string{"mything2"}},
	{"escaped space is a phrase", `shadow.reported.location:new\ york`, []string{"mything2"}},
	{"field exists", `thingTypeName:*`, except("mything1")},
	{"attribute exists", `attributes.floor:*`, []string{"sensor-1", "sensor-2"}},
	{"attributes any value", `attributes:usa`, []string{"mything2"}},
	{"object exists", `shadow.reported.stats:*`, []string{"mything2", "tv-oled-55", "TV-Plasma-42"}},
	{"object has no value", `shadow.reported.stats:78`, nil},
	{"leading wildcard", `thingName:*42`, []string{"TV-Plasma-42"}},
	{"question marks", `thingName:sensor-?`, []string{"sensor-1", "sensor-2"}},
	{"wildcard is one word", `shadow.reported.location:new*york`, nil},
	{"escaped wildcard is literal", `thingName:sensor\*`, nil},
	{"unknown field", `thingType:tv`, nil},
	{"NOT unknown field", `NOT thingType:tv`, all},
	{"attribute with a dot in its key", `attributes.dotted.key:x`, []string{"tv-oled-55"}},
	{"shadow key with a dot", `shadow.reported.a.b:dotted`, []string{"tv-oled-55"}},
	{"named shadow", `shadow.name.config.reported.mode:boost`, []string{"tv-oled-55"}},
	{"named shadow hasDelta", `shadow.name.config.hasDelta:true`, []string{"tv-oled-55"}},
	{"named shadow delta", `shadow.name.config.delta.mode:eco`, []string{"tv-oled-55"}},
	{"named shadow version", `shadow.name.config.version:7`, []string{"tv-oled-55"}},
	{"array of objects", `shadow.name.config.reported.list.k:two`, []string{"tv-oled-55"}},
	{"bare term reads named shadows", `boost`, []string{"tv-oled-55"}},
	{"shadow version", `shadow.version>=4`, []string{"mything2", "tv-oled-55"}},
	{"metadata timestamp", `shadow.metadata.reported.stats.battery.timestamp:34535454`, []string{"mything2"}},
	{"registry version", `registry.version:3`, []string{"mything2"}},
	{"registry.thingTypeName alias", `registry.thingTypeName:sensor`, []string{"sensor-1", "sensor-2"}},
	{"disconnect reason", `connectivity.disconnectReason:client_initiated_disconnect`, []string{"mything1"}},
	{"device defender", `deviceDefender.violationCount>1 AND deviceDefender.prof.beh.inViolation:true`, []string{"TV-Plasma-42"}},
	{"thingId", `thingId:a4b9f759*`, []string{"mything1"}},
	{"bare number is not in metadata", `34535454`, nil},
	{"bare number in shadow", `78`, []string{"mything2"}},
}

func TestMatch(t *testing.T) {
	things := fleet(t)
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.query, err)
			}
			if diff := cmp.Diff(tc.want, matching(q, things)); diff != "" {
				t.Errorf("%s matches (-want +got):\n%s", tc.query, diff)
			}
			// The canonical form means the same.
			q2, err := Parse(q.String())
			if err != nil {
				t.Fatalf("Parse(String()) = %v; String() = %s", err, q)
			}
			if diff := cmp.Diff(tc.want, matching(q2, things)); diff != "" {
				t.Errorf("%s (canonical %s) matches (-want +got):\n%s", tc.query, q, diff)
			}
		})
	}
}

// groups is the thing group fixture.
var groups = []*ThingGroup{
	{Name: "myParentThingGroupName", Description: "Root of the fleet"},
	{Name: "myGroupThingName", ParentNames: []string{"myParentThingGroupName"}, Attributes: map[string]string{"myAttribute": "75"}, Version: 2},
	{Name: "child", ParentNames: []string{"myRootThingGroupName", "mid"}, Attributes: map[string]string{"myAttribute": "cde"}, Description: "a building floor"},
}

// Golden examples from [DOC example-thinggroup-queries].
func TestMatchThingGroups(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{`thingGroupNames:myGroupThingName`, []string{"myGroupThingName"}},
		{`thingGroupNames:my*`, []string{"myParentThingGroupName", "myGroupThingName"}},
		{`thingGroupName:chil?`, []string{"child"}},
		{`attributes.myAttribute:75`, []string{"myGroupThingName"}},
		{`attributes.myAttribute:[75 TO 80]`, []string{"myGroupThingName"}},
		{`NOT attributes.myAttribute:cde`, []string{"myParentThingGroupName", "myGroupThingName"}},
		{`parentGroupNames:(myParentThingGroupName)`, []string{"myGroupThingName"}},
		{`parentGroupNames:(myParentThingGroupName OR myRootThingGroupName)`, []string{"myGroupThingName", "child"}},
		{`parentGroupNames:(myParentThingGroupNa*)`, []string{"myGroupThingName"}},
		{`thingGroupDescription:floor`, []string{"child"}},
		{`description:"building floor"`, []string{"child"}},
		{`root`, []string{"myParentThingGroupName"}},
		{`version:2`, []string{"myGroupThingName"}},
		{`thingName:child`, nil},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.query, err)
		}
		var got []string
		for _, g := range groups {
			if q.Match(g) {
				got = append(got, g.Name)
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s matches (-want +got):\n%s", tc.query, diff)
		}
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		query   string
		fields  []string
		sources Sources
		shadows []string
		names   *NameFilter
	}{
		{`thingTypeName:sensor AND attributes.floor:3 AND connectivity.connected:true`,
			[]string{"attributes.floor", "connectivity.connected", "thingTypeName"}, SourceRegistry | SourceConnectivity, nil, nil},
		{`thingName:Abc* AND shadow.name.cfg.reported.x:1`, []string{"shadow.name.cfg.reported.x", "thingName"},
			SourceRegistry | SourceShadow, []string{"cfg"}, &NameFilter{Prefix: "abc"}},
		{`thingName:B OR thingName:a`, []string{"thingName"}, SourceRegistry, nil, &NameFilter{Names: []string{"a", "b"}}},
		{`thingName:abc1 OR thingName:abd*`, []string{"thingName"}, SourceRegistry, nil, &NameFilter{Prefix: "ab"}},
		{`thingName:abc OR thingTypeName:x`, []string{"thingName", "thingTypeName"}, SourceRegistry, nil, nil},
		{`NOT thingName:abc`, []string{"thingName"}, SourceRegistry, nil, nil},
		{`thingName:x* thingName:xyz shadow.reported.a:1`, []string{"shadow.reported.a", "thingName"}, SourceRegistry | SourceShadow, []string{""}, &NameFilter{Names: []string{"xyz"}}},
		{`thingName:*`, []string{"thingName"}, SourceRegistry, nil, nil},
		{`abc`, []string{""}, SourceRegistry | SourceShadow | SourceDeviceDefender, nil, nil},
		{`*`, nil, 0, nil, nil},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.query, err)
		}
		if diff := cmp.Diff(tc.fields, q.Fields()); diff != "" {
			t.Errorf("%s: Fields (-want +got):\n%s", tc.query, diff)
		}
		if got := q.Sources(); got != tc.sources {
			t.Errorf("%s: Sources = %b, want %b", tc.query, got, tc.sources)
		}
		if diff := cmp.Diff(tc.shadows, q.ShadowNames()); diff != "" {
			t.Errorf("%s: ShadowNames (-want +got):\n%s", tc.query, diff)
		}
		nf, ok := q.ThingNames()
		if tc.names == nil {
			if ok {
				t.Errorf("%s: ThingNames = %+v, want none", tc.query, nf)
			}
		} else if !ok || !cmp.Equal(nf, *tc.names) {
			t.Errorf("%s: ThingNames = %+v, %v; want %+v", tc.query, nf, ok, *tc.names)
		}
	}
}

// TestNameFilterIsSound checks on the fixture that every thing a query
// matches passes its NameFilter.
func TestNameFilterIsSound(t *testing.T) {
	things := fleet(t)
	for _, tc := range matchCases {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		nf, ok := q.ThingNames()
		if !ok {
			continue
		}
		for _, name := range matching(q, things) {
			l := strings.ToLower(name)
			if nf.Names != nil && !slices.Contains(nf.Names, l) || nf.Names == nil && !strings.HasPrefix(l, nf.Prefix) {
				t.Errorf("%s matches %s, which fails its NameFilter %+v", tc.query, name, nf)
			}
		}
	}
}

func TestDecodeShadow(t *testing.T) {
	s := mustShadow(t, `{"state":{"desired":{"a":1,"b":{"c":2,"d":3},"e":[1,2],"f":null},"reported":{"a":1.0,"b":{"c":2,"d":4},"e":[1,2]}},"version":5}`)
	if s.Version != 5 {
		t.Errorf("Version = %d, want 5", s.Version)
	}
	want := map[string]any{"b": map[string]any{"d": s.Desired["b"].(map[string]any)["d"]}}
	if diff := cmp.Diff(want, s.Delta); diff != "" {
		t.Errorf("Delta (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{`, `{"version":"x"}`, `{} {}`, `[]`} {
		if _, err := DecodeShadow([]byte(bad)); err == nil {
			t.Errorf("DecodeShadow(%s) succeeded", bad)
		}
	}
}
