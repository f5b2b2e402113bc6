package shadow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	t0 = time.Unix(1700000000, 0)
	t1 = time.Unix(1700000100, 0)
	t2 = time.Unix(1700000200, 0)
	t3 = time.Unix(1700000300, 0)
)

var lamp = Request{Thing: "lamp"}

// apply runs updates in order, the first at t0 and each next 100s later,
// and returns the last result; any rejection fails the test.
func apply(t *testing.T, cur *Shadow, payloads ...string) (*Shadow, *UpdateResult) {
	t.Helper()
	var res *UpdateResult
	for i, p := range payloads {
		r, err := Update(cur, []byte(p), t0.Add(time.Duration(i)*100*time.Second))
		if err != nil {
			t.Fatalf("update %d %s rejected: %v", i, p, err)
		}
		res, cur = r, r.Shadow
	}
	return cur, res
}

func eq(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if string(got) != want {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func stateJSON(s *Shadow) string { return string(encode(s.stateMap(false))) }
func metaJSON(s *Shadow) string  { return string(encode(s.metaMap())) }

// TestLightBulb follows "Interacting with shadows" (device-shadow-data-flow)
// and checks every payload exactly.
func TestLightBulb(t *testing.T) {
	// The bulb reports red: the shadow is created at version 1.
	r, err := Update(nil, []byte(`{"state":{"reported":{"color":"red"}}}`), t0)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "update/accepted 1", r.Accepted, `{"metadata":{"reported":{"color":{"timestamp":1700000000}}},"state":{"reported":{"color":"red"}},"timestamp":1700000000,"version":1}`)
	if r.Delta != nil {
		t.Errorf("update/delta 1 = %s, want none", r.Delta)
	}
	eq(t, "update/documents 1", r.Documents, `{"current":{"metadata":{"reported":{"color":{"timestamp":1700000000}}},"state":{"reported":{"color":"red"}},"version":1},"previous":null,"timestamp":1700000000}`)
	eq(t, "stored 1", r.Shadow.Marshal(), `{"state":{"reported":{"color":"red"}},"metadata":{"reported":{"color":{"timestamp":1700000000}}},"version":1,"timestamp":1700000000}`)
	if r.Shadow.Version() != 1 {
		t.Errorf("version %d, want 1", r.Shadow.Version())
	}

	// The app asks for green: a delta.
	r, err = Update(r.Shadow, []byte(`{"state":{"desired":{"color":"green"}},"clientToken":"app-1"}`), t1)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "update/accepted 2", r.Accepted, `{"clientToken":"app-1","metadata":{"desired":{"color":{"timestamp":1700000100}}},"state":{"desired":{"color":"green"}},"timestamp":1700000100,"version":2}`)
	eq(t, "update/delta 2", r.Delta, `{"clientToken":"app-1","metadata":{"color":{"timestamp":1700000100}},"state":{"color":"green"},"timestamp":1700000100,"version":2}`)
	eq(t, "update/documents 2", r.Documents, `{"clientToken":"app-1","current":{"metadata":{"desired":{"color":{"timestamp":1700000100}},"reported":{"color":{"timestamp":1700000000}}},"state":{"desired":{"color":"green"},"reported":{"color":"red"}},"version":2},"previous":{"metadata":{"reported":{"color":{"timestamp":1700000000}}},"state":{"reported":{"color":"red"}},"version":1},"timestamp":1700000100}`)

	got, gerr := Get(lamp, r.Shadow, nil, t2)
	if gerr != nil {
		t.Fatal(gerr)
	}
	eq(t, "get/accepted with delta", got, `{"metadata":{"desired":{"color":{"timestamp":1700000100}},"reported":{"color":{"timestamp":1700000000}}},"state":{"delta":{"color":"green"},"desired":{"color":"green"},"reported":{"color":"red"}},"timestamp":1700000200,"version":2}`)

	// The bulb turns green and clears desired.
	r, err = Update(r.Shadow, []byte(`{"state":{"reported":{"color":"green"},"desired":null}}`), t2)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "update/accepted 3", r.Accepted, `{"metadata":{"desired":{"timestamp":1700000200},"reported":{"color":{"timestamp":1700000200}}},"state":{"desired":null,"reported":{"color":"green"}},"timestamp":1700000200,"version":3}`)
	if r.Delta != nil {
		t.Errorf("update/delta 3 = %s, want none", r.Delta)
	}
	eq(t, "update/documents 3", r.Documents, `{"current":{"metadata":{"reported":{"color":{"timestamp":1700000200}}},"state":{"reported":{"color":"green"}},"version":3},"previous":{"metadata":{"desired":{"color":{"timestamp":1700000100}},"reported":{"color":{"timestamp":1700000000}}},"state":{"desired":{"color":"green"},"reported":{"color":"red"}},"version":2},"timestamp":1700000200}`)

	got, gerr = Get(lamp, r.Shadow, []byte(`{"clientToken":"g"}`), t3)
	if gerr != nil {
		t.Fatal(gerr)
	}
	eq(t, "get/accepted 3", got, `{"clientToken":"g","metadata":{"reported":{"color":{"timestamp":1700000200}}},"state":{"reported":{"color":"green"}},"timestamp":1700000300,"version":3}`)

	del, derr := Delete(lamp, r.Shadow, nil, t3)
	if derr != nil {
		t.Fatal(derr)
	}
	eq(t, "delete/accepted", del, `{"timestamp":1700000300,"version":3}`)
	del, derr = Delete(lamp, r.Shadow, []byte(`{"clientToken":"d"}`), t3)
	if derr != nil {
		t.Fatal(derr)
	}
	eq(t, "delete/accepted with token", del, `{"clientToken":"d","timestamp":1700000300,"version":3}`)
}

// TestMerge checks the state and metadata an update leaves: the setup
// updates run at t0, t0+100s, …, and the last at the next step.
func TestMerge(t *testing.T) {
	const T0, T1 = `{"timestamp":1700000000}`, `{"timestamp":1700000100}`
	for _, tc := range []struct {
		name        string
		setup       string // one update at t0; "" for none
		update      string // at t1
		state, meta string
	}{
		{
			name:   "first update",
			update: `{"state":{"desired":{"a":1}}}`,
			state:  `{"desired":{"a":1}}`, meta: `{"desired":{"a":` + T1 + `}}`,
		},
		{
			name:   "objects merge recursively; untouched leaves keep their time",
			setup:  `{"state":{"desired":{"a":{"b":1,"c":2},"x":1}}}`,
			update: `{"state":{"desired":{"a":{"b":3}}}}`,
			state:  `{"desired":{"a":{"b":3,"c":2},"x":1}}`,
			meta:   `{"desired":{"a":{"b":` + T1 + `,"c":` + T0 + `},"x":` + T0 + `}}`,
		},
		{
			name:   "null deletes a key and its metadata",
			setup:  `{"state":{"desired":{"a":{"b":1,"c":2},"x":1}}}`,
			update: `{"state":{"desired":{"x":null}}}`,
			state:  `{"desired":{"a":{"b":1,"c":2}}}`,
			meta:   `{"desired":{"a":{"b":` + T0 + `,"c":` + T0 + `}}}`,
		},
		{
			name:   "null deletes a nested key",
			setup:  `{"state":{"desired":{"a":{"b":1,"c":2}}}}`,
			update: `{"state":{"desired":{"a":{"b":null}}}}`,
			state:  `{"desired":{"a":{"c":2}}}`,
			meta:   `{"desired":{"a":{"c":` + T0 + `}}}`,
		},
		{
			name:   "an object emptied by deletes stays, as {}",
			setup:  `{"state":{"desired":{"a":{"b":1},"z":1}}}`,
			update: `{"state":{"desired":{"a":{"b":null}}}}`,
			state:  `{"desired":{"a":{},"z":1}}`,
			meta:   `{"desired":{"a":{},"z":` + T0 + `}}`,
		},
		{
			name:   "a section left empty disappears",
			setup:  `{"state":{"desired":{"x":1},"reported":{"y":2}}}`,
			update: `{"state":{"desired":{"x":null}}}`,
			state:  `{"reported":{"y":2}}`,
			meta:   `{"reported":{"y":` + T0 + `}}`,
		},
		{
			name:   "desired null deletes the section",
			setup:  `{"state":{"desired":{"x":1,"o":{"p":1}},"reported":{"y":2}}}`,
			update: `{"state":{"desired":null}}`,
			state:  `{"reported":{"y":2}}`,
			meta:   `{"reported":{"y":` + T0 + `}}`,
		},
		{
			name:   "reported null deletes the section",
			setup:  `{"state":{"desired":{"x":1},"reported":{"y":2}}}`,
			update: `{"state":{"reported":null}}`,
			state:  `{"desired":{"x":1}}`,
			meta:   `{"desired":{"x":` + T0 + `}}`,
		},
		{
			name:   "state null clears the shadow",
			setup:  `{"state":{"desired":{"x":1},"reported":{"y":2}}}`,
			update: `{"state":null}`,
			state:  `{}`, meta: `{}`,
		},
		{
			name:   "an empty state changes nothing",
			setup:  `{"state":{"desired":{"x":1}}}`,
			update: `{"state":{}}`,
			state:  `{"desired":{"x":1}}`, meta: `{"desired":{"x":` + T0 + `}}`,
		},
		{
			name:   "an empty section in an update changes nothing",
			setup:  `{"state":{"desired":{"x":1}}}`,
			update: `{"state":{"desired":{},"reported":{}}}`,
			state:  `{"desired":{"x":1}}`, meta: `{"desired":{"x":` + T0 + `}}`,
		},
		{
			name:   "arrays are replaced whole",
			setup:  `{"state":{"desired":{"colors":["RED","GREEN","BLUE"]}}}`,
			update: `{"state":{"desired":{"colors":["RED"]}}}`,
			state:  `{"desired":{"colors":["RED"]}}`,
			meta:   `{"desired":{"colors":[` + T1 + `]}}`,
		},
		{
			name:   "an array's metadata is its elements'",
			update: `{"state":{"reported":{"l":[1,{"a":"x","b":[true]},[2,3],[],{}]}}}`,
			state:  `{"reported":{"l":[1,{"a":"x","b":[true]},[2,3],[],{}]}}`,
			meta:   `{"reported":{"l":[` + T1 + `,{"a":` + T1 + `,"b":[` + T1 + `]},[` + T1 + `,` + T1 + `],[],{}]}}`,
		},
		{
			name:   "an untouched array keeps its metadata",
			setup:  `{"state":{"desired":{"l":[1,2]}}}`,
			update: `{"state":{"desired":{"x":1}}}`,
			state:  `{"desired":{"l":[1,2],"x":1}}`,
			meta:   `{"desired":{"l":[` + T0 + `,` + T0 + `],"x":` + T1 + `}}`,
		},
		{
			name:   "a literal empty object is stored",
			setup:  `{"state":{"desired":{"x":1}}}`,
			update: `{"state":{"desired":{"e":{}}}}`,
			state:  `{"desired":{"e":{},"x":1}}`,
			meta:   `{"desired":{"e":{},"x":` + T0 + `}}`,
		},
		{
			name:   "an empty object merged into an object leaves it",
			setup:  `{"state":{"desired":{"o":{"k":1}}}}`,
			update: `{"state":{"desired":{"o":{}}}}`,
			state:  `{"desired":{"o":{"k":1}}}`,
			meta:   `{"desired":{"o":{"k":` + T0 + `}}}`,
		},
		{
			name:   "an empty object replaces a value",
			setup:  `{"state":{"desired":{"o":5}}}`,
			update: `{"state":{"desired":{"o":{}}}}`,
			state:  `{"desired":{"o":{}}}`,
			meta:   `{"desired":{"o":{}}}`,
		},
		{
			name:   "a new object of nulls only is not stored",
			setup:  `{"state":{"desired":{"x":1}}}`,
			update: `{"state":{"desired":{"n":{"m":null,"o":{"p":null}}}}}`,
			state:  `{"desired":{"x":1}}`,
			meta:   `{"desired":{"x":` + T0 + `}}`,
		},
		{
			name:   "a new object loses its nulls",
			update: `{"state":{"desired":{"n":{"m":null,"k":1,"o":{"p":null}}}}}`,
			state:  `{"desired":{"n":{"k":1}}}`,
			meta:   `{"desired":{"n":{"k":` + T1 + `}}}`,
		},
		{
			name:   "an object replaces a value",
			setup:  `{"state":{"desired":{"x":1,"y":2}}}`,
			update: `{"state":{"desired":{"x":{"timestamp":7}}}}`,
			state:  `{"desired":{"x":{"timestamp":7},"y":2}}`,
			meta:   `{"desired":{"x":{"timestamp":` + T1 + `},"y":` + T0 + `}}`,
		},
		{
			name:   "a value replaces an object",
			setup:  `{"state":{"desired":{"a":{"b":1}}}}`,
			update: `{"state":{"desired":{"a":"flat"}}}`,
			state:  `{"desired":{"a":"flat"}}`,
			meta:   `{"desired":{"a":` + T1 + `}}`,
		},
		{
			name:   "a key named timestamp merges as any other",
			setup:  `{"state":{"reported":{"o":{"timestamp":1,"u":2}}}}`,
			update: `{"state":{"reported":{"o":{"timestamp":3}}}}`,
			state:  `{"reported":{"o":{"timestamp":3,"u":2}}}`,
			meta:   `{"reported":{"o":{"timestamp":` + T1 + `,"u":` + T0 + `}}}`,
		},
		{
			name:   "setting a value again refreshes its time",
			setup:  `{"state":{"reported":{"v":1}}}`,
			update: `{"state":{"reported":{"v":1}}}`,
			state:  `{"reported":{"v":1}}`,
			meta:   `{"reported":{"v":` + T1 + `}}`,
		},
		{
			name:   "both sections in one request",
			setup:  `{"state":{"desired":{"a":1},"reported":{"a":0}}}`,
			update: `{"state":{"desired":{"b":2},"reported":{"a":1}}}`,
			state:  `{"desired":{"a":1,"b":2},"reported":{"a":1}}`,
			meta:   `{"desired":{"a":` + T0 + `,"b":` + T1 + `},"reported":{"a":` + T1 + `}}`,
		},
		{
			name:   "fields outside state are ignored",
			update: `{"state":{"reported":{"a":1}},"metadata":{"x":1},"timestamp":5,"other":[1]}`,
			state:  `{"reported":{"a":1}}`,
			meta:   `{"reported":{"a":` + T1 + `}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cur *Shadow
			wantVersion := int64(1)
			if tc.setup != "" {
				cur, _ = apply(t, nil, tc.setup)
				wantVersion = 2
			}
			r, err := Update(cur, []byte(tc.update), t1)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if got := stateJSON(r.Shadow); got != tc.state {
				t.Errorf("state\n got %s\nwant %s", got, tc.state)
			}
			if got := metaJSON(r.Shadow); got != tc.meta {
				t.Errorf("metadata\n got %s\nwant %s", got, tc.meta)
			}
			if r.Shadow.Version() != wantVersion {
				t.Errorf("version %d, want %d", r.Shadow.Version(), wantVersion)
			}
			// The stored bytes read back to the same shadow.
			p, perr := Parse(r.Shadow.Marshal())
			if perr != nil {
				t.Fatalf("Parse: %v", perr)
			}
			if !bytes.Equal(p.Marshal(), r.Shadow.Marshal()) {
				t.Errorf("Parse(Marshal()) = %s, want %s", p.Marshal(), r.Shadow.Marshal())
			}
		})
	}
}

// TestUpdateDoesNotChangeCur checks that cur, which the caller may still
// hold, is left as it was.
func TestUpdateDoesNotChangeCur(t *testing.T) {
	cur, _ := apply(t, nil, `{"state":{"desired":{"a":{"b":1,"c":[1]},"d":1}}}`)
	before := string(cur.Marshal())
	if _, err := Update(cur, []byte(`{"state":{"desired":{"a":{"b":null,"c":[2]},"d":null,"e":{"f":1}}}}`), t1); err != nil {
		t.Fatal(err)
	}
	if after := string(cur.Marshal()); after != before {
		t.Errorf("cur changed:\n%s\n%s", before, after)
	}
}

func TestNumbersRoundTrip(t *testing.T) {
	const reported = `{"big":12345678901234567890,"e":1e400,"f":1.10,"frac":0.1000000000000000055511151231257827,"neg":-0.0,"s":"<&>\u00e9"}`
	s, r := apply(t, nil, `{"state":{"reported":`+reported+`}}`)
	want := `{"big":12345678901234567890,"e":1e400,"f":1.10,"frac":0.1000000000000000055511151231257827,"neg":-0.0,"s":"<&>é"}`
	if got := string(encode(s.reported)); got != want {
		t.Errorf("reported\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(string(r.Accepted), want) {
		t.Errorf("update/accepted %s lacks %s", r.Accepted, want)
	}
	p, err := Parse(s.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(encode(p.reported)); got != want {
		t.Errorf("reported after Parse\n got %s\nwant %s", got, want)
	}
	g, _ := Get(lamp, p, nil, t1)
	if !strings.Contains(string(g), want) {
		t.Errorf("get/accepted %s lacks %s", g, want)
	}
}

func TestDelta(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string
		delta string // "" for none
	}{
		{"no desired", []string{`{"state":{"reported":{"a":1}}}`}, ""},
		{"no reported: all of desired", []string{`{"state":{"desired":{"a":1,"o":{"b":[1]}}}}`}, `{"a":1,"o":{"b":[1]}}`},
		{"equal", []string{`{"state":{"desired":{"a":1,"o":{"b":"x"}},"reported":{"a":1,"o":{"b":"x"}}}}`}, ""},
		{"only the keys that differ", []string{`{"state":{"desired":{"color":"RED","state":"STOP"},"reported":{"color":"GREEN","engine":"ON"}}}`}, `{"color":"RED","state":"STOP"}`},
		{"reported-only keys are not in it", []string{`{"state":{"desired":{"a":1},"reported":{"a":1,"b":2}}}`}, ""},
		{"nested: the path to the root", []string{`{"state":{"desired":{"lights":{"color":{"r":255,"g":255,"b":255}}},"reported":{"lights":{"color":{"r":255,"g":0,"b":255}}}}}`}, `{"lights":{"color":{"g":255}}}`},
		{"arrays as wholes", []string{`{"state":{"desired":{"l":[1,2,3]},"reported":{"l":[1,2]}}}`}, `{"l":[1,2,3]}`},
		{"equal arrays", []string{`{"state":{"desired":{"l":[1,{"a":"x"}]},"reported":{"l":[1,{"a":"x"}]}}}`}, ""},
		{"numbers by value", []string{`{"state":{"desired":{"a":1,"b":2.50,"c":100},"reported":{"a":1.0,"b":2.5,"c":1e2}}}`}, ""},
		{"numbers that differ", []string{`{"state":{"desired":{"a":12345678901234567890},"reported":{"a":12345678901234567891}}}`}, `{"a":12345678901234567890}`},
		{"types that differ", []string{`{"state":{"desired":{"a":"1","o":{"x":1}},"reported":{"a":1,"o":5}}}`}, `{"a":"1","o":{"x":1}}`},
		{"deleted from reported", []string{`{"state":{"desired":{"a":1},"reported":{"a":1}}}`, `{"state":{"reported":{"a":null}}}`}, `{"a":1}`},
		{"an empty desired object against a value", []string{`{"state":{"desired":{"o":{}},"reported":{"o":1}}}`}, `{"o":{}}`},
		{"an empty desired object against an object", []string{`{"state":{"desired":{"o":{}},"reported":{"o":{"k":1}}}}`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, r := apply(t, nil, tc.setup...)
			got := s.Delta()
			if tc.delta == "" {
				if got != nil {
					t.Errorf("delta %s, want none", got)
				}
				if r.Delta != nil {
					t.Errorf("update/delta published: %s", r.Delta)
				}
				return
			}
			eq(t, "delta", got, tc.delta)
			if r.Delta == nil || !strings.Contains(string(r.Delta), `"state":`+tc.delta) {
				t.Errorf("update/delta %s, want state %s", r.Delta, tc.delta)
			}
		})
	}
}

// TestDeltaPublished checks update/delta after updates that do not touch
// desired: it is published whenever the result has a delta, with all of it,
// and its metadata is desired's.
func TestDeltaPublished(t *testing.T) {
	s, _ := apply(t, nil,
		`{"state":{"reported":{"LOCK":"locked","temp":1}}}`,
		`{"state":{"desired":{"LOCK":"unlock","o":{"a":1,"b":2}}}}`,
	)
	r, err := Update(s, []byte(`{"state":{"reported":{"temp":2,"o":{"a":1}}},"clientToken":"dev"}`), t2)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "update/delta", r.Delta, `{"clientToken":"dev","metadata":{"LOCK":{"timestamp":1700000100},"o":{"b":{"timestamp":1700000100}}},"state":{"LOCK":"unlock","o":{"b":2}},"timestamp":1700000200,"version":3}`)

	// The device catches up: no delta.
	r, err = Update(r.Shadow, []byte(`{"state":{"reported":{"LOCK":"unlock","o":{"b":2}}}}`), t3)
	if err != nil {
		t.Fatal(err)
	}
	if r.Delta != nil {
		t.Errorf("update/delta %s, want none", r.Delta)
	}
	g, _ := Get(lamp, r.Shadow, nil, t3)
	if strings.Contains(string(g), "delta") {
		t.Errorf("get/accepted %s has a delta", g)
	}
}

func TestVersions(t *testing.T) {
	s, _ := apply(t, nil, `{"state":{"reported":{"a":1}}}`, `{"state":{"reported":{"a":2}}}`) // version 2
	for _, tc := range []struct {
		payload string
		code    int
		message string
		version int64 // when accepted
	}{
		{`{"state":{"reported":{"a":3}},"version":2}`, 0, "", 3},
		{`{"state":{"reported":{"a":3}}}`, 0, "", 3},
		{`{"state":{"reported":{"a":3}},"version":null}`, 0, "", 3},
		{`{"state":{"reported":{"a":3}},"version":1,"clientToken":"old"}`, 409, "Version conflict", 0},
		{`{"state":{"reported":{"a":3}},"version":3}`, 409, "Version conflict", 0},
		{`{"state":{"reported":{"a":3}},"version":"2"}`, 400, "Invalid version", 0},
		{`{"state":{"reported":{"a":3}},"version":2.0}`, 400, "Invalid version", 0},
		{`{"state":{"reported":{"a":3}},"version":-2}`, 400, "Invalid version", 0},
		{`{"state":{"reported":{"a":3}},"version":99999999999999999999}`, 400, "Invalid version", 0},
	} {
		r, err := Update(s, []byte(tc.payload), t2)
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("%s: rejected %v", tc.payload, err)
		case tc.code == 0 && r.Shadow.Version() != tc.version:
			t.Errorf("%s: version %d, want %d", tc.payload, r.Shadow.Version(), tc.version)
		case tc.code != 0 && (err == nil || err.Code != tc.code || err.Message != tc.message):
			t.Errorf("%s: got %v, want %d %s", tc.payload, err, tc.code, tc.message)
		}
	}
	if _, err := Update(s, []byte(`{"state":{"reported":{"a":3}},"version":1,"clientToken":"old"}`), t2); err == nil || err.ClientToken != "old" {
		t.Errorf("409 does not echo the clientToken: %v", err)
	}
	// No shadow: a version cannot match.
	if _, err := Update(nil, []byte(`{"state":{"reported":{"a":3}},"version":1}`), t2); err == nil || err.Code != 409 {
		t.Errorf("a version on a new shadow: %v, want 409", err)
	}
	// Every accepted update adds one, even one that changes nothing.
	r, err := Update(s, []byte(`{"state":{}}`), t2)
	if err != nil || r.Shadow.Version() != 3 {
		t.Errorf("empty update: %v, %v", r, err)
	}
}

func nest(levels int) string {
	return strings.Repeat(`{"k":`, levels-1) + `{"k":1` + strings.Repeat("}", levels)
}

func TestRejections(t *testing.T) {
	cur, _ := apply(t, nil, `{"state":{"reported":{"big":"`+strings.Repeat("x", 4000)+`"}}}`)
	long := strings.Repeat("t", 65)
	for _, tc := range []struct {
		name    string
		payload string
		code    int
		message string
		token   string
	}{
		{"not JSON", `not json`, 400, "Invalid JSON", ""},
		{"empty", ``, 400, "Invalid JSON", ""},
		{"truncated", `{"state":{`, 400, "Invalid JSON", ""},
		{"data after the JSON", `{"state":{}} {}`, 400, "Invalid JSON", ""},
		{"an array", `[{"state":{}}]`, 400, "Invalid JSON", ""},
		{"null", `null`, 400, "Invalid JSON", ""},
		{"missing state", `{}`, 400, "Missing required node: state", ""},
		{"missing state, token echoed", `{"clientToken":"t1","desired":{}}`, 400, "Missing required node: state", "t1"},
		{"state not an object", `{"state":5,"clientToken":"t"}`, 400, "State node must be an object", "t"},
		{"state an array", `{"state":[]}`, 400, "State node must be an object", ""},
		{"desired not an object", `{"state":{"desired":[1]}}`, 400, "Desired node must be an object", ""},
		{"desired a string", `{"state":{"desired":"x"},"clientToken":"t"}`, 400, "Desired node must be an object", "t"},
		{"reported not an object", `{"state":{"reported":true}}`, 400, "Reported node must be an object", ""},
		{"delta in state", `{"state":{"desired":{"a":1},"delta":{"a":1}}}`, 400, "State contains an invalid node: 'delta'", ""},
		{"another node in state", `{"state":{"foo":1,"zed":2},"clientToken":"t"}`, 400, "State contains an invalid node: 'foo'", "t"},
		{"clientToken too long", `{"state":{},"clientToken":"` + long + `"}`, 400, "Invalid clientToken", ""},
		{"clientToken not a string", `{"state":{},"clientToken":5}`, 400, "Invalid clientToken", ""},
		{"desired 7 levels deep", `{"state":{"desired":` + nest(7) + `},"clientToken":"t"}`, 400, "JSON contains too many levels of nesting; maximum is 6", "t"},
		{"reported 7 levels deep", `{"state":{"reported":` + nest(7) + `}}`, 400, "JSON contains too many levels of nesting; maximum is 6", ""},
		{"arrays count as levels", `{"state":{"reported":{"a":{"b":{"c":{"d":{"e":[[1]]}}}}}}}`, 400, "JSON contains too many levels of nesting; maximum is 6", ""},
		{"null in an array", `{"state":{"desired":{"colors":[null,"RED"]}},"clientToken":"t"}`, 400, "Invalid JSON", "t"},
		{"null in a nested array", `{"state":{"reported":{"a":[{"b":[1,null]}]}}}`, 400, "Invalid JSON", ""},
		{"not UTF-8", "{\"state\":{\"reported\":{\"a\":\"\xff\"}}}", 415, "Unsupported documented encoding; supported encoding is UTF-8", ""},
		{"the merged state over 8 KB", `{"state":{"desired":{"more":"` + strings.Repeat("y", 4200) + `"}},"clientToken":"t"}`, 413, "The payload exceeds the maximum size allowed", "t"},
		{"a request over 128 KB", `{"state":{"reported":{"a":null}},"pad":"` + strings.Repeat(" ", MaxRequestBytes) + `"}`, 413, "The payload exceeds the maximum size allowed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Update(cur, []byte(tc.payload), t1)
			if err == nil {
				t.Fatalf("accepted: %s", r.Accepted)
			}
			if err.Code != tc.code || err.Message != tc.message || err.ClientToken != tc.token {
				t.Errorf("got %d %q token %q, want %d %q token %q", err.Code, err.Message, err.ClientToken, tc.code, tc.message, tc.token)
			}
		})
	}
	// The limits themselves are accepted.
	for _, p := range []string{
		`{"state":{"desired":` + nest(6) + `,"reported":` + nest(6) + `}}`,
		`{"state":{"reported":{"a":{"b":{"c":{"d":{"e":[1]}}}}}}}`,
		`{"state":{"reported":{"a":{"b":{"c":{"d":{"e":{"f":{}}}}}}}}}`,
		`{"state":{},"clientToken":"` + strings.Repeat("t", 64) + `"}`,
		`{"state":{"reported":{"a":[]}}}`,
	} {
		if _, err := Update(cur, []byte(p), t1); err != nil {
			t.Errorf("%.80s: rejected %v", p, err)
		}
	}
}

// TestSizeLimit checks what counts toward 8 KB: the compact JSON of desired
// plus that of reported, after the merge; not metadata, nor the request.
func TestSizeLimit(t *testing.T) {
	// {"k":"…"} is 8 bytes plus the string.
	at := func(n int) string { return `{"k":"` + strings.Repeat("x", n-8) + `"}` }
	if _, err := Update(nil, []byte(`{"state":{"reported":`+at(MaxStateBytes)+`}}`), t0); err != nil {
		t.Errorf("exactly 8192 bytes: %v", err)
	}
	if _, err := Update(nil, []byte(`{"state":{"reported":`+at(MaxStateBytes+1)+`}}`), t0); err == nil || err.Code != 413 {
		t.Errorf("8193 bytes: %v, want 413", err)
	}
	// Split across the sections.
	if _, err := Update(nil, []byte(`{"state":{"desired":`+at(4096)+`,"reported":`+at(4096)+`}}`), t0); err != nil {
		t.Errorf("4096+4096 bytes: %v", err)
	}
	if _, err := Update(nil, []byte(`{"state":{"desired":`+at(4096)+`,"reported":`+at(4097)+`}}`), t0); err == nil || err.Code != 413 {
		t.Errorf("4096+4097 bytes: %v, want 413", err)
	}
	// Whitespace and deletes in the request do not count.
	padded := `{"state":{"reported":` + at(MaxStateBytes) + `,      "desired":{"gone":null}}` + strings.Repeat(" ", 5000) + `}`
	if _, err := Update(nil, []byte(padded), t0); err != nil {
		t.Errorf("a 13 KB request for an 8 KB state: %v", err)
	}
	// A shadow at the limit can still shrink.
	full, _ := apply(t, nil, `{"state":{"reported":`+at(MaxStateBytes)+`}}`)
	if _, err := Update(full, []byte(`{"state":{"reported":{"k":null}}}`), t1); err != nil {
		t.Errorf("emptying a full shadow: %v", err)
	}
	if _, err := Update(full, []byte(`{"state":{"desired":{"a":1}}}`), t1); err == nil || err.Code != 413 {
		t.Errorf("growing a full shadow: %v, want 413", err)
	}
}

func TestErrorPayload(t *testing.T) {
	e := &Error{Code: 409, Message: "Version conflict", ClientToken: "426bfd96"}
	eq(t, "with token", e.Payload(t0), `{"clientToken":"426bfd96","code":409,"message":"Version conflict","timestamp":1700000000}`)
	e = &Error{Code: 400, Message: "Invalid JSON"}
	eq(t, "without", e.Payload(t0), `{"code":400,"message":"Invalid JSON","timestamp":1700000000}`)
	if got := e.Error(); got != "shadow: 400 Invalid JSON" {
		t.Errorf("Error() = %q", got)
	}
}

func TestGetDelete(t *testing.T) {
	named := Request{Thing: "lamp", Name: "cfg"}
	for _, tc := range []struct {
		name    string
		r       Request
		payload string
		message string
		token   string
	}{
		{"classic", lamp, "", "No shadow exists with name: 'lamp'", ""},
		{"classic with token", lamp, `{"clientToken":"g1"}`, "No shadow exists with name: 'lamp'", "g1"},
		{"named", named, `{"clientToken":"g2"}`, "No shadow exists with name: 'lamp~cfg'", "g2"},
		{"payload not JSON", lamp, `hello`, "No shadow exists with name: 'lamp'", ""},
	} {
		for _, op := range []struct {
			name string
			f    func(Request, *Shadow, []byte, time.Time) ([]byte, *Error)
		}{{"get", Get}, {"delete", Delete}} {
			_, err := op.f(tc.r, nil, []byte(tc.payload), t0)
			if err == nil || err.Code != 404 || err.Message != tc.message || err.ClientToken != tc.token {
				t.Errorf("%s %s: got %v token %q, want 404 %q token %q", op.name, tc.name, err, errToken(err), tc.message, tc.token)
			}
		}
	}
	if _, err := Get(lamp, nil, []byte(`{"clientToken":"`+strings.Repeat("x", 65)+`"}`), t0); err == nil || err.Code != 400 || err.Message != "Invalid clientToken" {
		t.Errorf("get with a long token: %v", err)
	}

	// An empty shadow exists: get answers it, delete deletes it.
	s, _ := apply(t, nil, `{"state":{"desired":{"a":1}}}`, `{"state":{"desired":null}}`)
	g, err := Get(lamp, s, []byte(`not json`), t3)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "get of an empty shadow", g, `{"metadata":{},"state":{},"timestamp":1700000300,"version":2}`)
	d, err := Delete(named, s, nil, t3)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "delete of an empty shadow", d, `{"timestamp":1700000300,"version":2}`)
}

func errToken(e *Error) string {
	if e == nil {
		return ""
	}
	return e.ClientToken
}

func TestClientToken(t *testing.T) {
	for payload, want := range map[string]string{
		``:                                "",
		`x`:                               "",
		`{"clientToken":"abc"}`:           "abc",
		`{"clientToken":"abc","state":5}`: "abc",
		`{"clientToken":5}`:               "",
		`{"clientToken":"` + strings.Repeat("a", 64) + `"}`:        strings.Repeat("a", 64),
		`{"clientToken":"` + strings.Repeat("a", 65) + `"}`:        "",
		`[{"clientToken":"abc"}]`:                                  "",
		`{"clientToken":"é"}`:                                      "é",
		`{"clientToken":"` + strings.Repeat("é", 32) + `"}`:        strings.Repeat("é", 32), // 64 bytes
		`{"clientToken":"` + strings.Repeat("é", 32) + `a"}`:       "",                      // 65 bytes
		`{"clientToken":null}`:                                     "",
		"{\"clientToken\":\"\xff\"}":                               "\ufffd",
		`{"clientToken":"a"} trailing`:                             "",
		`{"state":{"desired":{"x":1}},"clientToken":"late-token"}`: "late-token",
	} {
		if got := ClientToken([]byte(payload)); got != want {
			t.Errorf("ClientToken(%.40q) = %q, want %q", payload, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{
		``,
		`[]`,
		`{"state":{},"metadata":{},"timestamp":1}`,
		`{"state":{},"metadata":{},"version":1}`,
		`{"state":{},"metadata":{},"version":"1","timestamp":1}`,
		`{"state":{},"metadata":{},"version":1.5,"timestamp":1}`,
		`{"state":[],"metadata":{},"version":1,"timestamp":1}`,
		`{"state":{"delta":{}},"metadata":{},"version":1,"timestamp":1}`,
		`{"state":{"desired":5},"metadata":{},"version":1,"timestamp":1}`,
		`{"state":{"desired":{"a":[null]}},"metadata":{},"version":1,"timestamp":1}`,
	} {
		if s, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) = %s, want an error", bad, s.Marshal())
		}
	}
	// Metadata that does not mirror the state is repaired with the
	// shadow's timestamp.
	s, err := Parse([]byte(`{"state":{"desired":{"a":1,"b":{"c":2},"l":[1,2]}},"metadata":{"desired":{"a":{"timestamp":5},"b":{"timestamp":6},"l":[{"timestamp":7}],"gone":{"timestamp":8}},"reported":{"x":{"timestamp":1}}},"version":4,"timestamp":9}`))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "repaired", s.Marshal(), `{"state":{"desired":{"a":1,"b":{"c":2},"l":[1,2]}},"metadata":{"desired":{"a":{"timestamp":5},"b":{"c":{"timestamp":9}},"l":[{"timestamp":9},{"timestamp":9}]}},"version":4,"timestamp":9}`)
	if s.Version() != 4 {
		t.Errorf("version %d", s.Version())
	}
}

func TestTopics(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		topic string
		want  Request
		ok    bool
	}{
		{"$aws/things/lamp/shadow/get", Request{Thing: "lamp", Op: OpGet}, true},
		{"$aws/things/lamp/shadow/update", Request{Thing: "lamp", Op: OpUpdate}, true},
		{"$aws/things/lamp/shadow/delete", Request{Thing: "lamp", Op: OpDelete}, true},
		{"$aws/things/lamp/shadow/name/cfg/get", Request{Thing: "lamp", Name: "cfg", Op: OpGet}, true},
		{"$aws/things/Thing_1:a-b/shadow/name/Sh_2:x-y/update", Request{Thing: "Thing_1:a-b", Name: "Sh_2:x-y", Op: OpUpdate}, true},
		{"$aws/things/name/shadow/name/name/delete", Request{Thing: "name", Name: "name", Op: OpDelete}, true},
		{"$aws/things/" + long(128) + "/shadow/get", Request{Thing: long(128), Op: OpGet}, true},
		{"$aws/things/t/shadow/name/" + long(64) + "/get", Request{Thing: "t", Name: long(64), Op: OpGet}, true},
		{"$aws/things/" + long(129) + "/shadow/get", Request{}, false},
		{"$aws/things/t/shadow/name/" + long(65) + "/get", Request{}, false},
		{"$aws/things/t/shadow/name//update", Request{}, false},
		{"$aws/things//shadow/update", Request{}, false},
		{"$aws/things/t/shadow/name/update", Request{}, false},
		{"$aws/things/t/shadow/update/accepted", Request{}, false},
		{"$aws/things/t/shadow/update/rejected", Request{}, false},
		{"$aws/things/t/shadow/update/delta", Request{}, false},
		{"$aws/things/t/shadow/update/documents", Request{}, false},
		{"$aws/things/t/shadow/get/accepted", Request{}, false},
		{"$aws/things/t/shadow/delete/rejected", Request{}, false},
		{"$aws/things/t/shadow/name/n/get/accepted", Request{}, false},
		{"$aws/things/t/shadow/list", Request{}, false},
		{"$aws/things/t/shadow/Update", Request{}, false},
		{"$aws/things/t/shadow/names/n/get", Request{}, false},
		{"$aws/things/t.x/shadow/get", Request{}, false},
		{"$aws/things/t/shadow/name/n$/get", Request{}, false},
		{"$aws/things/t+/shadow/get", Request{}, false},
		{"$aws/things/#/shadow/get", Request{}, false},
		{"aws/things/t/shadow/get", Request{}, false},
		{"$aws/thing/t/shadow/get", Request{}, false},
		{"$aws/things/t/shadows/get", Request{}, false},
		{"/$aws/things/t/shadow/get", Request{}, false},
		{"$aws/things/t/shadow/get/", Request{}, false},
		{"$aws/things/t/shadow", Request{}, false},
		{"", Request{}, false},
	} {
		got, ok := ParseRequestTopic(tc.topic)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseRequestTopic(%q) = %+v, %v; want %+v, %v", tc.topic, got, ok, tc.want, tc.ok)
		}
		if ok && got.Topic(got.Op.String()) != tc.topic {
			t.Errorf("%+v.Topic(%q) = %q, want %q", got, got.Op.String(), got.Topic(got.Op.String()), tc.topic)
		}
	}
	r := Request{Thing: "lamp", Name: "cfg"}
	for suffix, want := range map[string]string{
		"update/accepted":  "$aws/things/lamp/shadow/name/cfg/update/accepted",
		"update/delta":     "$aws/things/lamp/shadow/name/cfg/update/delta",
		"update/documents": "$aws/things/lamp/shadow/name/cfg/update/documents",
		"get/rejected":     "$aws/things/lamp/shadow/name/cfg/get/rejected",
	} {
		if got := r.Topic(suffix); got != want {
			t.Errorf("Topic(%q) = %q, want %q", suffix, got, want)
		}
	}
	if got := lamp.Topic("delete/accepted"); got != "$aws/things/lamp/shadow/delete/accepted" {
		t.Errorf("classic Topic = %q", got)
	}
	if OpGet.String() != "get" || OpUpdate.String() != "update" || OpDelete.String() != "delete" || Op(0).String() != "Op(0)" {
		t.Errorf("Op strings: %v %v %v %v", OpGet, OpUpdate, OpDelete, Op(0))
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name        string
		thing, shdw bool
	}{
		{"a", true, true},
		{"A-z_0:9", true, true},
		{strings.Repeat("x", 64), true, true},
		{strings.Repeat("x", 65), true, false},
		{strings.Repeat("x", 128), true, false},
		{strings.Repeat("x", 129), false, false},
		{"", false, false},
		{"a b", false, false},
		{"a/b", false, false},
		{"a.b", false, false},
		{"é", false, false},
		{"$aws", false, false},
	} {
		if err := CheckThingName(tc.name); (err == nil) != tc.thing {
			t.Errorf("CheckThingName(%.20q) = %v, want ok=%v", tc.name, err, tc.thing)
		}
		if err := CheckShadowName(tc.name); (err == nil) != tc.shdw {
			t.Errorf("CheckShadowName(%.20q) = %v, want ok=%v", tc.name, err, tc.shdw)
		}
	}
}

func TestNumberEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		eq   bool
	}{
		{"1", "1", true},
		{"1", "1.0", true},
		{"1.10", "1.1", true},
		{"100", "1e2", true},
		{"100", "1E+2", true},
		{"0.01", "1e-2", true},
		{"0", "-0", true},
		{"0", "0.000e5", true},
		{"-1", "1", false},
		{"12345678901234567890", "12345678901234567891", false},
		{"1e400", "1e401", false},
		{"1e400", "10e399", true},
		{"1e99999999999999999999", "1e99999999999999999999", true},
		{"1e99999999999999999999", "10e99999999999999999998", true},
		{"0.1", "0.10000000000000001", false},
	} {
		if got := numberEqual(json.Number(tc.a), json.Number(tc.b)); got != tc.eq {
			t.Errorf("numberEqual(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.eq)
		}
	}
}

// FuzzUpdate checks that Update never panics, and that an accepted result's
// shadow is within the limits, has metadata that mirrors its state, and
// reads back from its stored bytes to the same bytes. Each input is two
// updates, the second applied to the first's shadow when it was accepted.
func FuzzUpdate(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"state":{"reported":{"color":"red"}}}`, `{"state":{"desired":{"color":"green"}},"clientToken":"x"}`},
		{`{"state":{"desired":{"a":{"b":[1,{"c":null}]}}}}`, `{"state":{"desired":{"a":{"b":null}}}}`},
		{`{"state":{"desired":{"a":{"b":1}},"reported":{"a":{"b":2}}},"version":1}`, `{"state":null,"version":1}`},
		{`{"state":{"desired":{"n":12345678901234567890,"f":1.10}}}`, `{"state":{"reported":{"n":1.2345678901234567890e19}}}`},
		{`{"state":{"desired":{"e":{},"l":[]}}}`, `{"state":{"desired":{"e":{"x":null},"l":[[],{}]}}}`},
		{`{"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}}}`, `{"state":{"desired":{"a":5}}}`},
		{`{"state":{}}`, `{"state":{"desired":null,"reported":null}}`},
		{`{"state":{"reported":{"timestamp":{"timestamp":1}}}}`, `{"state":{"reported":{"timestamp":2}}}`},
		{`not json`, `{"state":5}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, p1, p2 []byte) {
		var cur *Shadow
		for i, p := range [][]byte{p1, p2} {
			r, err := Update(cur, p, t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				if err.Code == 0 || err.Message == "" {
					t.Fatalf("rejection without code or message: %+v", err)
				}
				continue
			}
			checkShadow(t, r.Shadow)
			for name, b := range map[string][]byte{"accepted": r.Accepted, "documents": r.Documents} {
				if _, err := decode(b); err != nil {
					t.Fatalf("update/%s is not JSON: %v: %s", name, err, b)
				}
			}
			if (r.Delta != nil) != (r.Shadow.Delta() != nil) {
				t.Fatalf("update/delta %s but Delta() %s", r.Delta, r.Shadow.Delta())
			}
			cur = r.Shadow
		}
	})
}

// checkShadow checks a shadow's invariants.
func checkShadow(t *testing.T, s *Shadow) {
	t.Helper()
	b := s.Marshal()
	p, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal()) failed: %v: %s", err, b)
	}
	if b2 := p.Marshal(); !bytes.Equal(b, b2) {
		t.Fatalf("Parse(Marshal()) changed the shadow:\n%s\n%s", b, b2)
	}
	if n := stateBytes(s.desired) + stateBytes(s.reported); n > MaxStateBytes {
		t.Fatalf("state of %d bytes stored", n)
	}
	for _, sec := range []struct {
		state, meta map[string]any
	}{{s.desired, s.metaDesired}, {s.reported, s.metaReported}} {
		if sec.state != nil && len(sec.state) == 0 {
			t.Fatalf("empty section stored: %s", b)
		}
		if (sec.state == nil) != (sec.meta == nil) {
			t.Fatalf("section and metadata disagree: %s", b)
		}
		if sec.state != nil && depth(sec.state) > MaxDepth {
			t.Fatalf("state too deep stored: %s", b)
		}
		if sec.state != nil {
			if err := mirrors(sec.state, sec.meta); err != nil {
				t.Fatalf("metadata does not mirror the state: %v: %s", err, b)
			}
		}
	}
}

// mirrors checks that meta is the metadata of v.
func mirrors(v, meta any) error {
	switch x := v.(type) {
	case map[string]any:
		m, ok := meta.(map[string]any)
		if !ok || len(m) != len(x) {
			return fmt.Errorf("object %v has metadata %v", x, meta)
		}
		for k, c := range x {
			if err := mirrors(c, m[k]); err != nil {
				return err
			}
		}
	case []any:
		m, ok := meta.([]any)
		if !ok || len(m) != len(x) {
			return fmt.Errorf("array %v has metadata %v", x, meta)
		}
		for i, c := range x {
			if err := mirrors(c, m[i]); err != nil {
				return err
			}
		}
	default:
		if !isLeafMeta(meta) {
			return fmt.Errorf("value %v has metadata %v", v, meta)
		}
	}
	return nil
}
