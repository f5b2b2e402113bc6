package fleetindex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// Document is what a Query matches: a *Thing (the AWS_Things index) or a
// *ThingGroup (the AWS_ThingGroups index). The interface is sealed.
type Document interface {
	matches(t *term) bool
}

var (
	_ Document = (*Thing)(nil)
	_ Document = (*ThingGroup)(nil)
)

// Thing is one entry of the AWS_Things index: the registry record, and,
// where the caller indexes them, connectivity, shadows and Device Defender
// data. A nil or empty part simply matches no query term on its fields.
type Thing struct {
	Name     string // thingName
	ID       string // thingId
	TypeName string // thingTypeName (registry.thingTypeName); "" when the thing has no type
	// Attributes are the registry attributes, attributes.<key>.
	Attributes map[string]string
	// Groups are thingGroupNames (registry.thingGroupNames): AWS indexes the
	// thing's groups and its billing group under this field.
	Groups  []string
	Version int64 // registry.version

	// Connectivity is nil when the thing has never connected (or
	// connectivity is not indexed): connectivity.* then matches nothing.
	Connectivity *Connectivity

	// Shadows are the indexed shadows by name: "" is the classic shadow
	// (shadow.*), any other key a named shadow (shadow.name.<key>.*). AWS
	// indexes only the named shadows listed in the indexing configuration's
	// filter; the caller decides which to put here.
	Shadows map[string]*Shadow

	// DeviceDefender is deviceDefender.*: decoded JSON, walked like a
	// shadow section (e.g. {"violationCount": 1, "<profile>": {...}}).
	DeviceDefender map[string]any
}

// Connectivity is the connectivity.* fields of a thing.
type Connectivity struct {
	Connected        bool   // connectivity.connected
	Timestamp        int64  // connectivity.timestamp, milliseconds since the epoch
	DisconnectReason string // connectivity.disconnectReason; "" while connected
	Version          int64  // connectivity.version
}

// Shadow is one indexed shadow. Its sections are decoded JSON values
// (map[string]any, []any, string, bool, json.Number or float64, nil), as
// DecodeShadow returns them.
type Shadow struct {
	Reported map[string]any // shadow.reported.*
	Desired  map[string]any // shadow.desired.*
	Delta    map[string]any // shadow.delta.*; shadow.hasDelta is len(Delta) > 0
	// Metadata is shadow.metadata.*: {"reported": {...}, "desired": {...}}
	// with a {"timestamp": T} per leaf.
	Metadata map[string]any
	Version  int64 // shadow.version
}

// ThingGroup is one entry of the AWS_ThingGroups index.
type ThingGroup struct {
	Name        string            // thingGroupName
	ID          string            // thingGroupId
	Description string            // thingGroupDescription
	ParentNames []string          // parentGroupNames: every ancestor, root to parent
	Attributes  map[string]string // attributes.<key>
	Version     int64             // version
}

// DecodeShadow reads a shadow document as the Device Shadow service shows
// it, {"state":{"desired":…,"reported":…,"delta":…},"metadata":{…},
// "version":N,…}, and as iotcore stores it (the same without "delta").
// Numbers stay json.Number. When the document has no "delta", it is
// computed from desired and reported as the Device Shadow service does: the
// desired leaves whose value differs from the reported one (objects are
// compared key by key, arrays as a whole).
func DecodeShadow(doc []byte) (*Shadow, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var raw struct {
		State struct {
			Desired  map[string]any `json:"desired"`
			Reported map[string]any `json:"reported"`
			Delta    map[string]any `json:"delta"`
		} `json:"state"`
		Metadata map[string]any `json:"metadata"`
		Version  json.Number    `json:"version"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode shadow: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode shadow: data after the JSON document")
	}
	s := &Shadow{
		Reported: raw.State.Reported,
		Desired:  raw.State.Desired,
		Delta:    raw.State.Delta,
		Metadata: raw.Metadata,
	}
	if raw.Version != "" {
		v, err := raw.Version.Int64()
		if err != nil {
			return nil, fmt.Errorf("decode shadow: version %s: %w", raw.Version, err)
		}
		s.Version = v
	}
	if s.Delta == nil {
		s.Delta = delta(s.Desired, s.Reported)
	}
	return s, nil
}

// delta is the desired state that differs from the reported state; nil when
// there is none.
func delta(desired, reported map[string]any) map[string]any {
	var out map[string]any
	for k, dv := range desired {
		if dv == nil {
			continue
		}
		rv, ok := reported[k]
		var d any
		if dm, isObj := dv.(map[string]any); isObj {
			rm, _ := rv.(map[string]any)
			if sub := delta(dm, rm); sub != nil {
				d = sub
			}
		} else if !ok || !sameJSON(dv, rv) {
			d = dv
		}
		if d != nil {
			if out == nil {
				out = make(map[string]any)
			}
			out[k] = d
		}
	}
	return out
}

// sameJSON compares two decoded JSON values; numbers compare by value.
func sameJSON(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// number reads a decoded JSON number.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}
