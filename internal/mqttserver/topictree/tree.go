package topictree

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Subscriber is one subscription that matches a topic name, as
// [Tree.Match] reports it. Filter is the topic filter without any
// "$share/<name>/" prefix, and Share the share name ("" when the
// subscription is not shared).
type Subscriber[V comparable] struct {
	Value  V
	Opts   byte
	Filter string
	Share  string
}

// Tree is a set of subscriptions, each a topic filter (with its share
// name, if shared), a subscriber value V such as a client identifier or a
// session pointer, and an options byte the tree stores but does not
// interpret. It answers which subscriptions match a topic name.
//
// The zero Tree is empty and ready to use. A Tree is safe for concurrent
// use and must not be copied after first use. V's values must compare
// equal to themselves (no NaN, no interface holding an uncomparable
// value).
type Tree[V comparable] struct {
	mu    sync.RWMutex
	root  node[V]
	count int // subscriptions
	nodes int // nodes below root, for tests of pruning
}

// node is one level of the tree. The filter of the subscriptions stored
// at a node is the path of levels from the root to it.
type node[V comparable] struct {
	children map[string]*node[V] // literal levels; nil when none
	plus     *node[V]            // the '+' level
	hash     *node[V]            // the '#' level
	filter   string              // the path to here, set while subs or shares are non-empty
	subs     members[V]          // ordinary subscriptions
	shares   map[string]*group[V]
}

// group is the members of one shared subscription group: one share name
// and one filter.
type group[V comparable] struct {
	members members[V]
	next    atomic.Uint64 // round-robin position; advanced under the read lock
}

type member[V comparable] struct {
	value V
	opts  byte
}

// members is a set of subscriber values with options. Short sets are a
// plain slice; longer ones (such as many clients subscribed to "#") also
// get an index so that subscribing and unsubscribing stay O(1).
type members[V comparable] struct {
	list  []member[V]
	index map[V]int // position in list; nil while list is short
}

const indexFrom = 16 // a set with more members than this is indexed

func (m *members[V]) find(v V) int {
	if m.index != nil {
		if i, ok := m.index[v]; ok {
			return i
		}
		return -1
	}
	for i := range m.list {
		if m.list[i].value == v {
			return i
		}
	}
	return -1
}

// set adds v with opts, or replaces the opts of v and reports true.
func (m *members[V]) set(v V, opts byte) (replaced bool) {
	if i := m.find(v); i >= 0 {
		m.list[i].opts = opts
		return true
	}
	m.list = append(m.list, member[V]{value: v, opts: opts})
	switch {
	case m.index != nil:
		m.index[v] = len(m.list) - 1
	case len(m.list) > indexFrom:
		m.index = make(map[V]int, len(m.list))
		for i := range m.list {
			m.index[m.list[i].value] = i
		}
	}
	return false
}

// remove deletes v and reports whether it was there. The last member
// takes its place, and storage shrinks as the set does.
func (m *members[V]) remove(v V) bool {
	i := m.find(v)
	if i < 0 {
		return false
	}
	last := len(m.list) - 1
	if i != last {
		m.list[i] = m.list[last]
		if m.index != nil {
			m.index[m.list[i].value] = i
		}
	}
	m.list[last] = member[V]{} // let the value be collected
	m.list = m.list[:last]
	if m.index != nil {
		delete(m.index, v)
		if len(m.list) <= indexFrom/2 {
			m.index = nil
		}
	}
	switch {
	case len(m.list) == 0:
		m.list = nil
	case cap(m.list) > 64 && len(m.list) < cap(m.list)/4:
		m.list = append([]member[V](nil), m.list...)
	}
	return true
}

func (n *node[V]) empty() bool {
	return len(n.children) == 0 && n.plus == nil && n.hash == nil &&
		len(n.subs.list) == 0 && len(n.shares) == 0
}

// child returns n's child for level, or nil.
func (n *node[V]) child(level string) *node[V] {
	switch level {
	case "+":
		return n.plus
	case "#":
		return n.hash
	}
	return n.children[level]
}

// makeChild returns n's child for level, creating it if need be.
func (t *Tree[V]) makeChild(n *node[V], level string) *node[V] {
	if c := n.child(level); c != nil {
		return c
	}
	c := new(node[V])
	switch level {
	case "+":
		n.plus = c
	case "#":
		n.hash = c
	default:
		if n.children == nil {
			n.children = make(map[string]*node[V])
		}
		// The key may be a slice of a large string, such as a whole
		// packet; do not keep that alive.
		n.children[strings.Clone(level)] = c
	}
	t.nodes++
	return c
}

// dropChild removes n's child for level.
func (t *Tree[V]) dropChild(n *node[V], level string) {
	switch level {
	case "+":
		n.plus = nil
	case "#":
		n.hash = nil
	default:
		delete(n.children, level)
		if len(n.children) == 0 {
			n.children = nil
		}
	}
	t.nodes--
}

// Subscribe adds the subscription of v to f with opts. There is one
// subscription per filter (share name included) and value: subscribing
// again replaces its opts and reports replaced. f should come from
// [ParseFilter]; a filter that breaks its rules is stored level by level
// as given and may never match.
func (t *Tree[V]) Subscribe(f Filter, v V, opts byte) (replaced bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &t.root
	for rest, more := f.Filter, true; more; {
		var level string
		level, rest, more = cutLevel(rest)
		n = t.makeChild(n, level)
	}
	if n.filter == "" {
		n.filter = strings.Clone(f.Filter)
	}
	if f.Share == "" {
		replaced = n.subs.set(v, opts)
	} else {
		g := n.shares[f.Share]
		if g == nil {
			if n.shares == nil {
				n.shares = make(map[string]*group[V])
			}
			g = new(group[V])
			n.shares[strings.Clone(f.Share)] = g
		}
		replaced = g.members.set(v, opts)
	}
	if !replaced {
		t.count++
	}
	return replaced
}

// Unsubscribe removes the subscription of v to f and reports whether it
// existed. Nodes left with no subscriptions and no children are removed.
func (t *Tree[V]) Unsubscribe(f Filter, v V) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.unsubscribe(&t.root, f.Filter, f, v) {
		return false
	}
	t.count--
	return true
}

// unsubscribe removes the subscription below n, where rest is what
// remains of f.Filter, and prunes the nodes it empties on the way back.
func (t *Tree[V]) unsubscribe(n *node[V], rest string, f Filter, v V) bool {
	level, rest, more := cutLevel(rest)
	c := n.child(level)
	if c == nil {
		return false
	}
	var removed bool
	if more {
		removed = t.unsubscribe(c, rest, f, v)
	} else {
		removed = c.remove(f.Share, v)
	}
	if removed && c.empty() {
		t.dropChild(n, level)
	}
	return removed
}

// remove deletes the subscription of v, with share name share, stored at n.
func (n *node[V]) remove(share string, v V) bool {
	if share == "" {
		if !n.subs.remove(v) {
			return false
		}
	} else {
		g := n.shares[share]
		if g == nil || !g.members.remove(v) {
			return false
		}
		if len(g.members.list) == 0 {
			delete(n.shares, share)
			if len(n.shares) == 0 {
				n.shares = nil
			}
		}
	}
	if len(n.subs.list) == 0 && len(n.shares) == 0 {
		n.filter = ""
	}
	return true
}

// Len returns the number of subscriptions, counting each member of a
// shared subscription group.
func (t *Tree[V]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}

// nodeCount returns the number of nodes below the root.
func (t *Tree[V]) nodeCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.nodes
}

// Match appends to dst every subscription whose filter matches topic, and
// returns the extended slice. A value subscribed through two matching
// filters appears twice; removing duplicates is the caller's business. For
// each shared subscription group whose filter matches, Match appends one
// member, taking the members in turn from one call to the next. The order
// of the results is unspecified.
//
// A filter whose first level is '+' or '#' does not match a topic that
// begins with '$' [MQTT-4.7.2-1]. topic should be a valid topic name (see
// [ValidTopicName]); Match does not check it.
func (t *Tree[V]) Match(topic string, dst []Subscriber[V]) []Subscriber[V] {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.root.match(topic, isDollar(topic), dst)
}

// Has reports whether at least one subscription matches topic, by the
// rules of [Tree.Match].
func (t *Tree[V]) Has(topic string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.root.has(topic, isDollar(topic))
}

func isDollar(topic string) bool { return topic != "" && topic[0] == '$' }

// match matches the levels in rest, at least one, below n. noWild is set
// at the root for a '$' topic, whose first level wildcards do not match.
func (n *node[V]) match(rest string, noWild bool, dst []Subscriber[V]) []Subscriber[V] {
	level, rest, more := cutLevel(rest)
	if !noWild {
		if n.hash != nil {
			dst = n.hash.emit(dst)
		}
		if n.plus != nil {
			dst = n.plus.matchNext(rest, more, dst)
		}
	}
	if c := n.children[level]; c != nil {
		dst = c.matchNext(rest, more, dst)
	}
	return dst
}

// matchNext continues at n, which matched a level: with the next level if
// there is one, and otherwise n's own subscriptions and those of a '#'
// below n, which matches its parent level too [MQTT-4.7.1-2].
func (n *node[V]) matchNext(rest string, more bool, dst []Subscriber[V]) []Subscriber[V] {
	if more {
		return n.match(rest, false, dst)
	}
	dst = n.emit(dst)
	if n.hash != nil {
		dst = n.hash.emit(dst)
	}
	return dst
}

// emit appends the subscriptions stored at n: every ordinary one, and one
// member of each shared group.
func (n *node[V]) emit(dst []Subscriber[V]) []Subscriber[V] {
	for _, m := range n.subs.list {
		dst = append(dst, Subscriber[V]{Value: m.value, Opts: m.opts, Filter: n.filter})
	}
	for share, g := range n.shares {
		list := g.members.list // never empty: empty groups are deleted
		m := list[(g.next.Add(1)-1)%uint64(len(list))]
		dst = append(dst, Subscriber[V]{Value: m.value, Opts: m.opts, Filter: n.filter, Share: share})
	}
	return dst
}

// has is match that stops at the first subscription.
func (n *node[V]) has(rest string, noWild bool) bool {
	level, rest, more := cutLevel(rest)
	if !noWild {
		if n.hash != nil && n.hash.stores() {
			return true
		}
		if n.plus != nil && n.plus.hasNext(rest, more) {
			return true
		}
	}
	c := n.children[level]
	return c != nil && c.hasNext(rest, more)
}

func (n *node[V]) hasNext(rest string, more bool) bool {
	if more {
		return n.has(rest, false)
	}
	return n.stores() || n.hash != nil && n.hash.stores()
}

// stores reports whether subscriptions are stored at n.
func (n *node[V]) stores() bool { return len(n.subs.list) > 0 || len(n.shares) > 0 }
