package fleetindex

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Query is a parsed fleet-indexing query string. It is immutable and safe
// for concurrent use.
type Query struct {
	root *node
}

type nodeKind uint8

const (
	nAnd nodeKind = iota
	nOr
	nNot
	nTerm
	nAll // "*" alone: every document
)

// node is one node of the boolean tree.
type node struct {
	kind nodeKind
	kids []*node // nAnd, nOr: two or more; nNot: one
	t    *term   // nTerm
}

type termKind uint8

const (
	tExact    termKind = iota // field:value
	tPhrase                   // field:"two words"
	tWildcard                 // field:ab*c?
	tAny                      // field:* (the field exists)
	tRange                    // field:[a TO b], field>a, ...
)

// wildcard runes in a pattern; literal runes are never negative.
const (
	wildStar rune = -1
	wildOne  rune = -2
)

// term is one leaf: a field and what its value must be.
type term struct {
	f       field
	kind    termKind
	lit     string // tExact: the value as written (unescaped); tPhrase: the words joined by one space
	low     string // tExact: lit lowercased
	num     float64
	isNum   bool     // tExact: lit is a number
	words   []string // tPhrase: lowercased words
	pat     []rune   // tWildcard: as written (for String)
	lpat    []rune   // tWildcard: lowercased
	lo, hi  bound    // tRange
	cmp     string   // tRange written as a comparison: ">", ">=", "<" or "<="; "" for [a TO b]
	numeric bool     // tRange: every bound given is a number, so values compare as numbers
}

// bound is one end of a range.
type bound struct {
	open  bool   // "*": unbounded
	incl  bool   // [ or ]: inclusive
	lit   string // as written
	low   string // lowercased
	num   float64
	isNum bool
}

// Match reports whether d satisfies the query.
func (q *Query) Match(d Document) bool { return q.root.eval(d) }

func (n *node) eval(d Document) bool {
	switch n.kind {
	case nTerm:
		return d.matches(n.t)
	case nAnd:
		for _, k := range n.kids {
			if !k.eval(d) {
				return false
			}
		}
		return true
	case nOr:
		for _, k := range n.kids {
			if k.eval(d) {
				return true
			}
		}
		return false
	case nNot:
		return !n.kids[0].eval(d)
	}
	return true // nAll
}

// Sources is a set of data sources a query reads.
type Sources uint8

// The data sources of fleet indexing [DOC managing-index].
const (
	SourceRegistry Sources = 1 << iota
	SourceShadow
	SourceConnectivity
	SourceDeviceDefender
)

// Sources says which data sources the query's fields read, so a caller
// knows whether it must load shadows or connectivity before matching. A
// term without a field reads the registry, shadows and Device Defender.
func (q *Query) Sources() Sources {
	var s Sources
	q.root.walk(func(t *term) { s |= t.f.kind.source() })
	return s
}

// Fields lists the field names the query uses, sorted, each once, as
// written; a term without a field is listed as "".
func (q *Query) Fields() []string {
	var out []string
	q.root.walk(func(t *term) { out = append(out, t.f.name) })
	slices.Sort(out)
	return slices.Compact(out)
}

// ShadowNames lists the shadows the query reads by name, sorted, each once:
// "" for the classic shadow. A term without a field reads every shadow and
// is not listed.
func (q *Query) ShadowNames() []string {
	var out []string
	q.root.walk(func(t *term) {
		switch t.f.kind {
		case fShadowSection, fShadowVersion, fShadowHasDelta:
			out = append(out, t.f.key)
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}

func (n *node) walk(fn func(*term)) {
	if n.kind == nTerm {
		fn(n.t)
	}
	for _, k := range n.kids {
		k.walk(fn)
	}
}

// NameFilter is what the name of every document a query matches must
// satisfy, for a caller that narrows by an index on names before matching.
// Search is case insensitive, so both Names and Prefix are lowercased and
// must be compared case-insensitively (SQLite's LIKE, PostgreSQL's ILIKE or
// lower(name)).
type NameFilter struct {
	// Names, when not nil, are the only names that can match.
	Names []string
	// Prefix, when Names is nil, starts every name that can match.
	Prefix string
}

// ThingNames is the NameFilter the query puts on thingName in the
// AWS_Things index; ok is false when it puts none.
func (q *Query) ThingNames() (nf NameFilter, ok bool) {
	return q.root.nameFilter(func(k fieldKind) bool { return k == fThingName })
}

// GroupNames is the NameFilter the query puts on the group's name in the
// AWS_ThingGroups index (thingGroupName, or thingGroupNames as AWS's
// examples spell it there); ok is false when it puts none.
func (q *Query) GroupNames() (nf NameFilter, ok bool) {
	return q.root.nameFilter(func(k fieldKind) bool { return k == fGroupName || k == fGroupNames })
}

func (n *node) nameFilter(isName func(fieldKind) bool) (NameFilter, bool) {
	switch n.kind {
	case nTerm:
		t := n.t
		if !isName(t.f.kind) {
			return NameFilter{}, false
		}
		switch t.kind {
		case tExact:
			return NameFilter{Names: []string{t.low}}, true
		case tWildcard:
			var b strings.Builder
			for _, r := range t.lpat {
				if r < 0 {
					break
				}
				b.WriteRune(r)
			}
			if b.Len() == 0 {
				return NameFilter{}, false
			}
			return NameFilter{Prefix: b.String()}, true
		}
		return NameFilter{}, false
	case nAnd:
		var best NameFilter
		found := false
		for _, k := range n.kids {
			nf, ok := k.nameFilter(isName)
			if !ok {
				continue
			}
			switch {
			case !found:
				best, found = nf, true
			case nf.Names != nil && (best.Names == nil || len(nf.Names) < len(best.Names)):
				best = nf
			case nf.Names == nil && best.Names == nil && len(nf.Prefix) > len(best.Prefix):
				best = nf
			}
		}
		return best, found
	case nOr:
		var names []string
		prefix, exact := "", true
		for i, k := range n.kids {
			nf, ok := k.nameFilter(isName)
			if !ok {
				return NameFilter{}, false
			}
			names = append(names, nf.Names...)
			p := nf.Prefix
			if nf.Names != nil {
				p = commonPrefix(nf.Names)
			} else {
				exact = false
			}
			if i == 0 {
				prefix = p
			} else {
				prefix = commonPrefix([]string{prefix, p})
			}
		}
		if exact {
			slices.Sort(names)
			return NameFilter{Names: slices.Compact(names)}, true
		}
		return NameFilter{Prefix: prefix}, prefix != ""
	}
	return NameFilter{}, false
}

func commonPrefix(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	p := ss[0]
	for _, s := range ss[1:] {
		i := 0
		for i < len(p) && i < len(s) && p[i] == s[i] {
			i++
		}
		p = p[:i]
	}
	for !utf8.ValidString(p) { // do not end inside a character
		p = p[:len(p)-1]
	}
	return p
}
