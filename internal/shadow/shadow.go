package shadow

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits, from AWS IoT Core's quotas and the Device Shadow pages.
const (
	// MaxStateBytes is the most a shadow's state may hold: the compact
	// JSON of its desired section plus that of its reported section, after
	// the update is merged. Metadata, version, timestamps and the request's
	// other fields do not count ("Only the data for desired and reported
	// state inside the state document sent to the device's shadow counts
	// toward the limit", Diagnosing problems with shadows).
	//
	// AWS uncertain: AWS does not say how it serializes the sections to
	// count them; this counts this package's compact encoding (no spaces,
	// UTF-8 unescaped, numbers as sent), as AWS's Greengrass ShadowManager
	// counts its own.
	MaxStateBytes = 8 * 1024

	// MaxDepth is how many levels of keys desired and reported may each
	// hold (array elements count as a level): {"a":{"b":{"c":{"d":{"e":
	// {"f":1}}}}}} is the deepest desired accepted.
	//
	// AWS uncertain: the error message says "maximum is 6"; an older
	// quotas page said 5 and counted {"one":{…{"five":{}}}} as 5 levels.
	// This counts as AWS's Greengrass ShadowManager does (the section
	// itself and the containers in it, empty ones not counting), which
	// accepts 6 levels of keys and rejects 7.
	MaxDepth = 6

	// MaxClientTokenBytes is the longest clientToken AWS accepts.
	MaxClientTokenBytes = 64

	// MaxRequestBytes bounds an update request's payload before it is
	// read.
	//
	// AWS uncertain: AWS sets no size for the request itself, only for the
	// resulting state (MaxStateBytes); its MQTT messages are at most
	// 128 KB, so a larger update is answered 413 here without reading it.
	MaxRequestBytes = 128 * 1024
)

// Shadow is one stored shadow document: its desired and reported sections,
// their metadata (a timestamp per leaf), its version and the time of its
// last update. Marshal's bytes are what the store keeps; Parse reads them
// back. A Shadow is never modified once made: Update returns a new one.
type Shadow struct {
	desired, reported         map[string]any // nil when the section is absent; never empty
	metaDesired, metaReported map[string]any // mirror desired and reported
	version                   int64
	timestamp                 int64 // epoch seconds of the last update
}

// Version is the shadow's version: 1 after the update that created it, one
// more after each accepted update.
func (s *Shadow) Version() int64 { return s.version }

// stored is Marshal's layout.
type stored struct {
	State     sections `json:"state"`
	Metadata  sections `json:"metadata"`
	Version   int64    `json:"version"`
	Timestamp int64    `json:"timestamp"`
}

type sections struct {
	Desired  map[string]any `json:"desired,omitempty"`
	Reported map[string]any `json:"reported,omitempty"`
}

// Marshal is the shadow as the store keeps it:
// {"state":{"desired":…,"reported":…},"metadata":{…},"version":N,"timestamp":T},
// compact, with object keys sorted, numbers as they were sent.
func (s *Shadow) Marshal() []byte {
	return encode(stored{
		State:     sections{s.desired, s.reported},
		Metadata:  sections{s.metaDesired, s.metaReported},
		Version:   s.version,
		Timestamp: s.timestamp,
	})
}

// Parse reads what Marshal wrote. Metadata that does not mirror the state
// is repaired: a leaf without a timestamp gets the shadow's timestamp, and
// timestamps of keys the state lacks are dropped.
func Parse(b []byte) (*Shadow, error) {
	v, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("shadow: stored document: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("shadow: stored document is not a JSON object")
	}
	num := func(key string) (int64, error) {
		n, ok := doc[key].(json.Number)
		if !ok {
			return 0, fmt.Errorf("shadow: stored document has no %s", key)
		}
		i, ok := integer(n)
		if !ok || i < 0 {
			return 0, fmt.Errorf("shadow: stored document's %s %s is not a version or time", key, n)
		}
		return i, nil
	}
	s := &Shadow{}
	if s.version, err = num("version"); err != nil {
		return nil, err
	}
	if s.timestamp, err = num("timestamp"); err != nil {
		return nil, err
	}
	state, err := sectionsOf(doc, "state")
	if err != nil {
		return nil, err
	}
	meta, err := sectionsOf(doc, "metadata")
	if err != nil {
		return nil, err
	}
	s.desired, s.reported = nonEmpty(state["desired"]), nonEmpty(state["reported"])
	if nullInArray(s.desired) || nullInArray(s.reported) {
		return nil, errors.New("shadow: stored document has a null in an array")
	}
	s.metaDesired = metaObject(s.desired, meta["desired"], s.timestamp)
	s.metaReported = metaObject(s.reported, meta["reported"], s.timestamp)
	return s, nil
}

// sectionsOf reads doc[key] as {"desired":{…},"reported":{…}}, either
// section optional.
func sectionsOf(doc map[string]any, key string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	v, ok := doc[key]
	if !ok || v == nil {
		return out, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("shadow: stored document's %s is not an object", key)
	}
	for k, sv := range obj {
		if k != "desired" && k != "reported" {
			return nil, fmt.Errorf("shadow: stored document's %s has %q", key, k)
		}
		if sv == nil {
			continue
		}
		so, ok := sv.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("shadow: stored document's %s.%s is not an object", key, k)
		}
		out[k] = so
	}
	return out, nil
}

func nonEmpty(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// leafMeta is the metadata of one value: {"timestamp":ts}.
func leafMeta(ts int64) map[string]any {
	return map[string]any{"timestamp": json.Number(strconv.FormatInt(ts, 10))}
}

func isLeafMeta(m any) bool {
	obj, ok := m.(map[string]any)
	if !ok || len(obj) != 1 {
		return false
	}
	n, ok := obj["timestamp"].(json.Number)
	if !ok {
		return false
	}
	_, ok = integer(n)
	return ok
}

// metaObject is the metadata of a section (nil for an absent one).
func metaObject(section map[string]any, old any, ts int64) map[string]any {
	if section == nil {
		return nil
	}
	return metaOf(section, old, ts).(map[string]any)
}

// metaOf builds the metadata of value v, keeping what old holds for each
// leaf that has one and giving ts to the others. Objects' metadata are
// objects with the same keys, arrays' are arrays of their elements'
// metadata, and any other value's is {"timestamp":…}.
//
// AWS uncertain: the developer guide's example gives an array one
// {"timestamp":…}; AWS IoT, and AWS's Greengrass ShadowManager which
// mirrors it, give an array an array of its elements' metadata, as here.
func metaOf(v, old any, ts int64) any {
	switch x := v.(type) {
	case map[string]any:
		om, _ := old.(map[string]any)
		if isLeafMeta(om) {
			om = nil // a value's metadata: the object is new
		}
		out := make(map[string]any, len(x))
		for k, c := range x {
			out[k] = metaOf(c, om[k], ts)
		}
		return out
	case []any:
		oa, _ := old.([]any)
		if len(oa) != len(x) {
			oa = nil
		}
		out := make([]any, len(x))
		for i, c := range x {
			var o any
			if oa != nil {
				o = oa[i]
			}
			out[i] = metaOf(c, o, ts)
		}
		return out
	}
	if isLeafMeta(old) {
		return old
	}
	return leafMeta(ts)
}

// fresh is the metadata of a value an update wrote: ts everywhere.
func fresh(v any, ts int64) any { return metaOf(v, nil, ts) }

// UpdateResult is what an accepted update produces: the shadow to store
// and the payloads to publish.
type UpdateResult struct {
	Shadow    *Shadow
	Accepted  []byte // update/accepted, and the REST UpdateThingShadow response body
	Delta     []byte // update/delta; nil when desired and reported do not differ
	Documents []byte // update/documents
}

// Update applies an update request (its payload, a request state document)
// to cur, the stored shadow (nil when the shadow does not exist; the update
// creates it at version 1), at now. It returns what to store and publish,
// or the rejection.
//
// The request is {"state":{"desired":{…},"reported":{…}},"clientToken":…,
// "version":…}; fields outside those are ignored. Objects merge key by key,
// recursively; a null value deletes its key; "desired": null and
// "reported": null delete the section, "state": null both; arrays and other
// values replace what was there. A section left empty disappears, while an
// object inside one whose keys the update all deleted stays, as {} (so
// AWS's Greengrass ShadowManager found AWS IoT doing, its pull request 213).
//
// AWS uncertain: an update's new object whose keys are all null (deletes of
// keys that do not exist) is not stored (AWS's Greengrass ShadowManager
// "collapses" it); a literal {} is stored as an empty object.
func Update(cur *Shadow, payload []byte, now time.Time) (*UpdateResult, *Error) {
	req, tok, serr := parseUpdate(payload)
	if serr != nil {
		return nil, serr
	}
	if req.version != nil {
		// AWS uncertain: AWS compares a request's version with "the
		// latest version it has"; a shadow that does not exist has none,
		// so any version is a conflict.
		if cur == nil || *req.version != cur.version {
			return nil, &Error{Code: 409, Message: msgVersionConflict, ClientToken: tok}
		}
	}
	ts := now.Unix()

	next := &Shadow{version: 1, timestamp: ts}
	if cur != nil {
		next.version = cur.version + 1
		next.desired, next.reported = copyObject(cur.desired), copyObject(cur.reported)
	}
	var oldMetaDesired, oldMetaReported map[string]any
	if cur != nil {
		oldMetaDesired, oldMetaReported = cur.metaDesired, cur.metaReported
	}
	next.desired, next.metaDesired = applySection(next.desired, oldMetaDesired, req, "desired", ts)
	next.reported, next.metaReported = applySection(next.reported, oldMetaReported, req, "reported", ts)

	if n := stateBytes(next.desired) + stateBytes(next.reported); n > MaxStateBytes {
		return nil, &Error{Code: 413, Message: msgTooLarge, ClientToken: tok}
	}

	res := &UpdateResult{Shadow: next}

	// update/accepted: the request's state as sent (nulls included) and
	// the metadata of what it wrote.
	accepted := map[string]any{"state": req.stateRaw, "version": next.version, "timestamp": ts}
	if req.stateRaw == nil {
		accepted["metadata"] = leafMeta(ts)
	} else {
		meta := map[string]any{}
		for k, v := range req.state {
			meta[k] = fresh(v, ts)
		}
		accepted["metadata"] = meta
	}
	addToken(accepted, tok)
	res.Accepted = encode(accepted)

	// update/delta: whenever "the resulting shadow contains different
	// values for desired and reported states" (Interacting with shadows),
	// with all of the differences, whatever the update touched.
	if delta := next.deltaState(); delta != nil {
		doc := map[string]any{
			"state":     delta,
			"metadata":  deltaMeta(delta, next.metaDesired),
			"version":   next.version,
			"timestamp": ts,
		}
		addToken(doc, tok)
		res.Delta = encode(doc)
	}

	// update/documents: the shadow before and after; previous is null
	// when the update created it.
	docs := map[string]any{"previous": nil, "current": next.document(), "timestamp": ts}
	if cur != nil {
		docs["previous"] = cur.document()
	}
	addToken(docs, tok)
	res.Documents = encode(docs)
	return res, nil
}

// updateRequest is a decoded, checked update request.
type updateRequest struct {
	stateRaw any            // the request's "state" as sent: nil or an object
	state    map[string]any // its sections as sent: "desired"/"reported" → object or nil
	version  *int64
}

// parseUpdate reads and checks an update request, in this order: size,
// encoding, JSON, clientToken, state, desired and reported, version,
// nesting, nulls in arrays. The clientToken is returned, for the
// rejections that follow.
//
// AWS uncertain: AWS does not say in which order it checks; this order
// lets every rejection after the clientToken's echo it.
func parseUpdate(payload []byte) (*updateRequest, string, *Error) {
	if len(payload) > MaxRequestBytes {
		return nil, "", &Error{Code: 413, Message: msgTooLarge}
	}
	if !utf8.Valid(payload) {
		return nil, "", &Error{Code: 415, Message: msgNotUTF8}
	}
	v, err := decode(payload)
	if err != nil {
		return nil, "", badRequest(msgInvalidJSON, "")
	}
	// AWS uncertain: a request that is JSON but not an object (an array, a
	// string, null) is "Invalid JSON", as AWS's Greengrass ShadowManager
	// answers.
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "", badRequest(msgInvalidJSON, "")
	}
	tok, err := tokenOf(obj)
	if err != nil {
		return nil, "", badRequest(msgInvalidClientToken, "")
	}
	stateRaw, ok := obj["state"]
	if !ok {
		return nil, tok, badRequest(msgMissingState, tok)
	}
	req := &updateRequest{stateRaw: stateRaw}
	if stateRaw != nil {
		state, ok := stateRaw.(map[string]any)
		if !ok {
			return nil, tok, badRequest(msgStateNotObject, tok)
		}
		keys := make([]string, 0, len(state))
		for k := range state {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k != "desired" && k != "reported" {
				// AWS answers this for "delta" too: a state read from
				// get/accepted cannot be sent back as it is.
				return nil, tok, badRequest(msgInvalidNode(k), tok)
			}
		}
		req.state = state
		for _, k := range []string{"desired", "reported"} {
			sv, ok := state[k]
			if !ok || sv == nil {
				continue
			}
			if _, ok := sv.(map[string]any); !ok {
				if k == "desired" {
					return nil, tok, badRequest(msgDesiredNotObject, tok)
				}
				return nil, tok, badRequest(msgReportedNotObject, tok)
			}
		}
	}
	// AWS uncertain: AWS answers "Invalid version" without saying when;
	// here a version must be a non-negative integer literal. A null
	// version counts as none.
	if vv, ok := obj["version"]; ok && vv != nil {
		n, ok := vv.(json.Number)
		if !ok {
			return nil, tok, badRequest(msgInvalidVersion, tok)
		}
		i, ok := integer(n)
		if !ok || i < 0 {
			return nil, tok, badRequest(msgInvalidVersion, tok)
		}
		req.version = &i
	}
	for _, sv := range req.state {
		if depth(sv) > MaxDepth {
			return nil, tok, badRequest(msgTooDeep, tok)
		}
	}
	// "Arrays can't have null values" (Device Shadow service documents).
	//
	// AWS uncertain: AWS says such a request is rejected, not with which
	// message; it is "Invalid JSON" here.
	for _, sv := range req.state {
		if nullInArray(sv) {
			return nil, tok, badRequest(msgInvalidJSON, tok)
		}
	}
	return req, tok, nil
}

// applySection applies the request's desired or reported (key) to section,
// a copy the function may change, and returns the section and its
// metadata.
func applySection(section, oldMeta map[string]any, req *updateRequest, key string, ts int64) (map[string]any, map[string]any) {
	if req.stateRaw == nil {
		return nil, nil // "state": null clears the shadow
	}
	pv, ok := req.state[key]
	if !ok {
		return section, oldMeta
	}
	if pv == nil {
		return nil, nil // "desired": null or "reported": null deletes the section
	}
	patch := pv.(map[string]any)
	if section == nil {
		section = map[string]any{}
	}
	merge(section, patch)
	if len(section) == 0 {
		return nil, nil
	}
	return section, metaAfter(section, oldMeta, patch, ts)
}

// merge applies patch to dst.
func merge(dst, patch map[string]any) {
	for k, pv := range patch {
		if pv == nil {
			delete(dst, k)
			continue
		}
		pm, ok := pv.(map[string]any)
		if !ok {
			dst[k] = deepCopy(pv)
			continue
		}
		if dm, ok := dst[k].(map[string]any); ok {
			merge(dm, pm)
			continue
		}
		if nv, keep := newObject(pm); keep {
			dst[k] = nv
		} else {
			delete(dst, k)
		}
	}
}

// newObject is the object an update writes where there was none: its
// nulls removed, and nested objects that only held nulls too. It is dropped
// (keep false) when it held keys and none is left.
func newObject(pm map[string]any) (obj map[string]any, keep bool) {
	out := make(map[string]any, len(pm))
	for k, v := range pm {
		switch x := v.(type) {
		case nil:
		case map[string]any:
			if c, keep := newObject(x); keep {
				out[k] = c
			}
		default:
			out[k] = deepCopy(v)
		}
	}
	return out, len(out) > 0 || len(pm) == 0
}

// metaAfter is a section's metadata after an update: ts for every value the
// patch wrote, the old timestamps for the rest.
func metaAfter(section, oldMeta, patch map[string]any, ts int64) map[string]any {
	out := make(map[string]any, len(section))
	for k, v := range section {
		om := oldMeta[k]
		pv, inPatch := patch[k]
		switch {
		case !inPatch:
			out[k] = metaOf(v, om, ts)
		case isObject(pv) && isObject(v) && isObject(om) && !isLeafMeta(om):
			// merged into an object that was there
			out[k] = metaAfter(v.(map[string]any), om.(map[string]any), pv.(map[string]any), ts)
		default:
			out[k] = fresh(v, ts)
		}
	}
	return out
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// stateBytes is the size a section counts for MaxStateBytes.
func stateBytes(section map[string]any) int {
	if section == nil {
		return 0
	}
	return len(encode(section))
}

func addToken(doc map[string]any, tok string) {
	if tok != "" {
		doc["clientToken"] = tok
	}
}

// document is the shadow as update/documents shows it:
// {"state":{…},"metadata":{…},"version":N}.
func (s *Shadow) document() map[string]any {
	return map[string]any{
		"state":    s.stateMap(false),
		"metadata": s.metaMap(),
		"version":  s.version,
	}
}

func (s *Shadow) stateMap(withDelta bool) map[string]any {
	st := map[string]any{}
	if s.desired != nil {
		st["desired"] = s.desired
	}
	if s.reported != nil {
		st["reported"] = s.reported
	}
	if withDelta {
		if d := s.deltaState(); d != nil {
			st["delta"] = d
		}
	}
	return st
}

func (s *Shadow) metaMap() map[string]any {
	m := map[string]any{}
	if s.metaDesired != nil {
		m["desired"] = s.metaDesired
	}
	if s.metaReported != nil {
		m["reported"] = s.metaReported
	}
	return m
}

// deltaState is the delta of the shadow: the desired values that differ
// from the reported ones, nil when none does.
func (s *Shadow) deltaState() map[string]any {
	if s.desired == nil {
		return nil
	}
	d := delta(s.desired, s.reported)
	if len(d) == 0 {
		return nil
	}
	return d
}

// delta is what of desired differs from reported: keys reported lacks,
// values that differ (arrays as wholes), and, for objects on both sides,
// their delta, "the path all the way to the root" (Device Shadow service
// documents, Delta state). Keys only in reported are not in it.
func delta(desired, reported map[string]any) map[string]any {
	out := map[string]any{}
	for k, dv := range desired {
		rv, ok := reported[k]
		if !ok {
			out[k] = dv
			continue
		}
		dm, dok := dv.(map[string]any)
		rm, rok := rv.(map[string]any)
		if dok && rok {
			if sub := delta(dm, rm); len(sub) > 0 {
				out[k] = sub
			}
			continue
		}
		if !equal(dv, rv) {
			out[k] = dv
		}
	}
	return out
}

// deltaMeta is the delta's metadata: the desired metadata of each of its
// values ("its values are equal to the metadata in the desired field").
func deltaMeta(delta, metaDesired map[string]any) map[string]any {
	out := make(map[string]any, len(delta))
	for k, v := range delta {
		m := metaDesired[k]
		if dm, ok := v.(map[string]any); ok {
			if mm, ok := m.(map[string]any); ok && !isLeafMeta(mm) {
				out[k] = deltaMeta(dm, mm)
				continue
			}
		}
		out[k] = m
	}
	return out
}

// Delta is the JSON of the shadow's delta, the "delta" of state in
// get/accepted and in GetThingShadow's response: the desired values that
// differ from the reported ones. It is nil when there is none.
func (s *Shadow) Delta() []byte {
	if d := s.deltaState(); d != nil {
		return encode(d)
	}
	return nil
}

// Get answers a get request for r's shadow: cur is the stored shadow (nil
// when it does not exist, answered 404), payload the request's (empty, or
// {"clientToken":…}). The answer is the get/accepted payload, which is also
// the REST GetThingShadow response body:
// {"state":{"desired":…,"reported":…,"delta":…},"metadata":{"desired":…,"reported":…},
// "version":N,"timestamp":T,"clientToken":…}.
//
// AWS uncertain: the developer guide's delta example also shows a
// "delta" in metadata; get/accepted as AWS sends it, and as its SDKs
// model it, has desired and reported metadata only, as here.
func Get(r Request, cur *Shadow, payload []byte, now time.Time) ([]byte, *Error) {
	tok, serr := requestToken(payload)
	if serr != nil {
		return nil, serr
	}
	if cur == nil {
		return nil, notFound(r, tok)
	}
	doc := map[string]any{
		"state":     cur.stateMap(true),
		"metadata":  cur.metaMap(),
		"version":   cur.version,
		"timestamp": now.Unix(),
	}
	addToken(doc, tok)
	return encode(doc), nil
}

// Delete answers a delete request for r's shadow: cur is the stored shadow
// (nil when it does not exist, answered 404), payload the request's. The
// answer is the delete/accepted payload, {"version":N,"timestamp":T,
// "clientToken":…}, N being the version of the shadow deleted; the caller
// then removes the shadow.
//
// AWS keeps a deleted shadow's version for 48 hours: a shadow created again
// within them continues from it (Interacting with shadows, DELETE). This
// package leaves that to the store: Update with cur nil starts at 1.
func Delete(r Request, cur *Shadow, payload []byte, now time.Time) ([]byte, *Error) {
	tok, serr := requestToken(payload)
	if serr != nil {
		return nil, serr
	}
	if cur == nil {
		return nil, notFound(r, tok)
	}
	doc := map[string]any{"version": cur.version, "timestamp": now.Unix()}
	addToken(doc, tok)
	return encode(doc), nil
}

// requestToken reads the clientToken of a get or delete request.
//
// AWS uncertain: AWS says a get is an empty message and that a delete's
// content "is ignored"; its SDKs send {"clientToken":…} and expect it back.
// So a payload that is not a JSON object is ignored, a clientToken in one is
// echoed, and one over 64 bytes is rejected as in an update.
func requestToken(payload []byte) (string, *Error) {
	tok, err := clientToken(payload)
	if err != nil {
		return "", badRequest(msgInvalidClientToken, "")
	}
	return tok, nil
}
