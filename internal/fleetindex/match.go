package fleetindex

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// matches reports whether any value of t's field in the thing satisfies t.
func (d *Thing) matches(t *term) bool {
	switch t.f.kind {
	case fAll:
		return d.matchAll(t)
	case fThingName:
		return t.name(d.Name)
	case fThingID:
		return t.name(d.ID)
	case fThingType:
		return t.name(d.TypeName)
	case fGroupNames:
		return t.names(d.Groups)
	case fRegistryVersion:
		return t.integer(d.Version)
	case fAttribute:
		return t.attributes(d.Attributes)
	case fConnected:
		return d.Connectivity != nil && t.boolean(d.Connectivity.Connected)
	case fConnTimestamp:
		return d.Connectivity != nil && t.integer(d.Connectivity.Timestamp)
	case fConnVersion:
		return d.Connectivity != nil && t.integer(d.Connectivity.Version)
	case fDisconnectReason:
		return d.Connectivity != nil && t.name(d.Connectivity.DisconnectReason)
	case fShadowSection, fShadowVersion, fShadowHasDelta:
		s := d.Shadows[t.f.key]
		if s == nil {
			return false
		}
		switch t.f.kind {
		case fShadowVersion:
			return t.integer(s.Version)
		case fShadowHasDelta:
			return t.boolean(len(s.Delta) > 0)
		}
		var sec map[string]any
		switch t.f.section {
		case "reported":
			sec = s.Reported
		case "desired":
			sec = s.Desired
		case "delta":
			sec = s.Delta
		case "metadata":
			sec = s.Metadata
		}
		return t.path(sec, 0)
	case fDeviceDefender:
		return t.path(d.DeviceDefender, 0)
	}
	return false
}

// matchAll searches every text field: "If a field isn't specified, AWS IoT
// searches for the term in all the registry, Device Shadow, and Device
// Defender fields" [DOC query-syntax]. AWS uncertain: registry here means
// thingName, thingId, thingTypeName, thingGroupNames and attribute values;
// shadows mean the reported, desired and delta sections, not metadata.
func (d *Thing) matchAll(t *term) bool {
	if t.name(d.Name) || t.name(d.ID) || t.name(d.TypeName) || t.names(d.Groups) || t.attributes(d.Attributes) {
		return true
	}
	for _, s := range d.Shadows {
		if s != nil && (t.json(s.Reported) || t.json(s.Desired) || t.json(s.Delta)) {
			return true
		}
	}
	return t.json(d.DeviceDefender)
}

// matches reports whether any value of t's field in the group satisfies t.
func (g *ThingGroup) matches(t *term) bool {
	switch t.f.kind {
	case fAll:
		return t.name(g.Name) || t.name(g.ID) || t.text(g.Description) || t.names(g.ParentNames) || t.attributes(g.Attributes)
	// AWS uncertain: AWS's example thing group queries search group names
	// with thingGroupNames:myGroupThingName; in this index both
	// thingGroupName and thingGroupNames are the group's name.
	case fGroupName, fGroupNames:
		return t.name(g.Name)
	case fGroupID:
		return t.name(g.ID)
	case fGroupDescription:
		return t.text(g.Description)
	case fParentGroups:
		return t.names(g.ParentNames)
	case fAttribute:
		return t.attributes(g.Attributes)
	case fVersion, fRegistryVersion:
		return t.integer(g.Version)
	}
	return false
}

// name matches a registry string, absent when "". Registry names and
// attribute values cannot contain spaces, so they are one word.
func (t *term) name(s string) bool {
	return s != "" && t.word(s)
}

func (t *term) names(ss []string) bool {
	for _, s := range ss {
		if t.name(s) {
			return true
		}
	}
	return false
}

func (t *term) attributes(attrs map[string]string) bool {
	if t.f.key != "" {
		v, ok := attrs[t.f.key]
		return ok && (t.kind == tAny || t.word(v))
	}
	for _, v := range attrs {
		if t.kind == tAny || t.word(v) {
			return true
		}
	}
	return false
}

// text matches free text, absent when "": a term matches any of its words
// and a phrase consecutive words [DOC query-syntax: "Search is case
// insensitive. Words are separated by white-space characters"].
func (t *term) text(s string) bool {
	if s == "" {
		return false
	}
	if t.kind == tAny {
		return true
	}
	if t.kind == tPhrase {
		return t.phrase(s)
	}
	for i := 0; ; {
		w, next := nextWord(s, i)
		if w == "" {
			return false
		}
		if t.word(w) {
			return true
		}
		i = next
	}
}

// word matches one word of a string value.
func (t *term) word(w string) bool {
	switch t.kind {
	case tAny:
		return true
	case tExact:
		return foldEqual(w, t.low)
	case tPhrase:
		return false // a word has no spaces, a phrase has several words
	case tWildcard:
		return glob(t.lpat, w)
	case tRange:
		if t.numeric {
			f, ok := parseNumber(w)
			return ok && t.inNumeric(f)
		}
		return t.inString(w)
	}
	return false
}

// phrase matches when t's words appear consecutively among s's words.
func (t *term) phrase(s string) bool {
	for i := 0; ; {
		w, next := nextWord(s, i)
		if w == "" {
			return false
		}
		if foldEqual(w, t.words[0]) {
			j, k := next, 1
			for ; k < len(t.words); k++ {
				var w2 string
				w2, j = nextWord(s, j)
				if w2 == "" || !foldEqual(w2, t.words[k]) {
					break
				}
			}
			if k == len(t.words) {
				return true
			}
		}
		i = next
	}
}

// nextWord returns the first word of s at or after byte i, and where the
// search for the next one starts; "" when there is none.
func nextWord(s string, i int) (string, int) {
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isSpace(r) {
			break
		}
		i += n
	}
	start := i
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if isSpace(r) {
			break
		}
		i += n
	}
	return s[start:i], i
}

// integer matches a numeric managed field.
func (t *term) integer(v int64) bool {
	return t.number(float64(v), "")
}

// number matches a number; text is how it was written ("" to format it).
// AWS uncertain: a term equals a number when it is the same number (75
// matches 75.0); wildcards and string ranges see the number's text.
func (t *term) number(f float64, text string) bool {
	switch t.kind {
	case tAny:
		return true
	case tExact:
		if t.isNum {
			return f == t.num
		}
		return false
	case tRange:
		if t.numeric {
			return t.inNumeric(f)
		}
	case tPhrase:
		return false
	}
	if text == "" {
		text = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return t.word(text)
}

// boolean matches a Boolean field: true and false, case insensitive
// [DOC example-queries: connectivity.connected:true].
func (t *term) boolean(b bool) bool {
	if b {
		return t.word("true")
	}
	return t.word("false")
}

// path matches the values at t's path, from segment i on, below a JSON
// object. Keys may contain dots, so each key tried is one or more segments
// joined. An empty path is the object itself.
func (t *term) path(obj map[string]any, i int) bool {
	if obj == nil {
		return false
	}
	p := &t.f.path
	n := p.segments()
	if i == n {
		return t.json(obj)
	}
	for j := i + 1; j <= n; j++ {
		if v, ok := obj[p.key(i, j)]; ok && t.at(v, j) {
			return true
		}
	}
	return false
}

// at matches the values at t's path, from segment i on, below v; arrays
// are searched element by element [DOC example-queries:
// "shadow.reported.myvalues:2 ... the myvalues array ... contains a value
// of 2"].
func (t *term) at(v any, i int) bool {
	if i == t.f.path.segments() {
		return t.json(v)
	}
	switch v := v.(type) {
	case map[string]any:
		return t.path(v, i)
	case []any:
		for _, e := range v {
			if t.at(e, i) {
				return true
			}
		}
	}
	return false
}

// json matches a decoded JSON value. An object matches when one of its
// leaves does, so field:* on an object is true when it holds any value.
func (t *term) json(v any) bool {
	switch v := v.(type) {
	case string:
		return t.kind == tAny || t.text(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return t.kind == tAny || t.word(string(v))
		}
		return t.number(f, string(v))
	case float64:
		return t.number(v, "")
	case int64:
		return t.number(float64(v), "")
	case int:
		return t.number(float64(v), "")
	case bool:
		return t.boolean(v)
	case []any:
		for _, e := range v {
			if t.json(e) {
				return true
			}
		}
	case map[string]any:
		if t.kind != tAny && t.f.kind != fAll {
			// AWS uncertain: a value term on an object matches nothing;
			// only field:* looks inside it.
			return false
		}
		for _, e := range v {
			if t.json(e) {
				return true
			}
		}
	}
	return false
}

func (t *term) inNumeric(f float64) bool {
	if !t.lo.open && (f < t.lo.num || !t.lo.incl && f == t.lo.num) {
		return false
	}
	if !t.hi.open && (f > t.hi.num || !t.hi.incl && f == t.hi.num) {
		return false
	}
	return true
}

// inString compares lexicographically, case insensitively [DOC
// example-queries: serialNumber:["abcd" TO "abcf"]].
func (t *term) inString(s string) bool {
	if !t.lo.open {
		c := foldCompare(s, t.lo.low)
		if c < 0 || c == 0 && !t.lo.incl {
			return false
		}
	}
	if !t.hi.open {
		c := foldCompare(s, t.hi.low)
		if c > 0 || c == 0 && !t.hi.incl {
			return false
		}
	}
	return true
}

// lowerRune folds a rune for case-insensitive search; wildcards stay.
func lowerRune(r rune) rune {
	switch {
	case r < 0:
		return r
	case r < utf8.RuneSelf:
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// lower folds a string with lowerRune.
func lower(s string) string {
	return strings.Map(lowerRune, s)
}

// foldEqual reports whether lower(s) == low, without allocating. ASCII
// is compared byte by byte; the first non-ASCII byte hands the rest to
// foldCompare, since lowering other characters can change their length.
func foldEqual(s, low string) bool {
	n := min(len(s), len(low))
	for i := 0; i < n; i++ {
		a, b := s[i], low[i]
		if a >= utf8.RuneSelf || b >= utf8.RuneSelf {
			return foldCompare(s[i:], low[i:]) == 0
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return len(s) == len(low) || foldCompare(s[n:], low[n:]) == 0
}

// foldCompare compares lower(s) with low rune by rune.
func foldCompare(s, low string) int {
	i, j := 0, 0
	for i < len(s) && j < len(low) {
		a, n := utf8.DecodeRuneInString(s[i:])
		b, m := utf8.DecodeRuneInString(low[j:])
		a = lowerRune(a)
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
		i, j = i+n, j+m
	}
	switch {
	case i < len(s):
		return 1
	case j < len(low):
		return -1
	}
	return 0
}

// glob matches s, folded, against a lowercased pattern where wildStar is
// any run of characters and wildOne exactly one [DOC example-queries:
// thingName:my*, thingName:ab?]. It backtracks only to the last star, so it
// is linear in practice and never allocates.
func glob(pat []rune, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for sx < len(s) {
		if px < len(pat) {
			switch p := pat[px]; p {
			case wildStar:
				starPx, starSx = px, sx
				px++
				continue
			case wildOne:
				_, n := utf8.DecodeRuneInString(s[sx:])
				px, sx = px+1, sx+n
				continue
			default:
				r, n := rune(s[sx]), 1
				if r >= utf8.RuneSelf {
					r, n = utf8.DecodeRuneInString(s[sx:])
				}
				if lowerRune(r) == p {
					px, sx = px+1, sx+n
					continue
				}
			}
		}
		if starPx < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSx:])
		starSx += n
		px, sx = starPx+1, starSx
	}
	for px < len(pat) && pat[px] == wildStar {
		px++
	}
	return px == len(pat)
}
