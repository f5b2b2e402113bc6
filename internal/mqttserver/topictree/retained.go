package topictree

import (
	"strings"
	"sync"
)

// Retained stores one retained message M per topic name and finds the
// messages whose topics match a subscription's filter.
//
// The zero Retained is empty and ready to use. A Retained is safe for
// concurrent use and must not be copied after first use.
type Retained[M any] struct {
	mu    sync.RWMutex
	root  rnode[M]
	count int // messages
	nodes int // nodes below root, for tests of pruning
}

// rnode is one level of a Retained.
type rnode[M any] struct {
	children map[string]*rnode[M] // nil when none
	topic    string               // the path to here, when ok
	msg      M
	ok       bool // msg is set
}

// Set stores m as the retained message of topic, replacing any before it.
// topic should be a valid topic name (see [ValidTopicName]); Set does not
// check it.
func (r *Retained[M]) Set(topic string, m M) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := &r.root
	for rest, more := topic, true; more; {
		var level string
		level, rest, more = cutLevel(rest)
		c := n.children[level]
		if c == nil {
			if n.children == nil {
				n.children = make(map[string]*rnode[M])
			}
			c = new(rnode[M])
			n.children[strings.Clone(level)] = c
			r.nodes++
		}
		n = c
	}
	if !n.ok {
		n.ok = true
		n.topic = strings.Clone(topic)
		r.count++
	}
	n.msg = m
}

// Delete removes the retained message of topic and reports whether there
// was one. Nodes left with no message and no children are removed.
func (r *Retained[M]) Delete(topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.delete(&r.root, topic) {
		return false
	}
	r.count--
	return true
}

func (r *Retained[M]) delete(n *rnode[M], rest string) bool {
	level, rest, more := cutLevel(rest)
	c := n.children[level]
	if c == nil {
		return false
	}
	if more {
		if !r.delete(c, rest) {
			return false
		}
	} else {
		if !c.ok {
			return false
		}
		var zero M
		c.msg, c.ok, c.topic = zero, false, ""
	}
	if !c.ok && len(c.children) == 0 {
		delete(n.children, level)
		if len(n.children) == 0 {
			n.children = nil
		}
		r.nodes--
	}
	return true
}

// Get returns the retained message of topic, if there is one.
func (r *Retained[M]) Get(topic string) (M, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := &r.root
	for rest, more := topic, true; more; {
		var level string
		level, rest, more = cutLevel(rest)
		if n = n.children[level]; n == nil {
			var zero M
			return zero, false
		}
	}
	return n.msg, n.ok
}

// Len returns the number of retained messages.
func (r *Retained[M]) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}

// nodeCount returns the number of nodes below the root.
func (r *Retained[M]) nodeCount() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.nodes
}

// Match appends to dst the retained message of every topic that f
// matches, and returns the extended slice, in no particular order. A
// filter whose first level is '+' or '#' does not match a topic that
// begins with '$' [MQTT-4.7.2-1]. Retained messages are not sent for a
// shared subscription (MQTT 5.0 section 4.8.2), so for a filter with a
// share name Match returns dst unchanged. f should come from
// [ParseFilter].
func (r *Retained[M]) Match(f Filter, dst []M) []M {
	if f.Share != "" {
		return dst
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.root.match(f.Filter, true, dst)
}

// match matches the filter levels in rest, at least one, below n; root is
// set at the root, where wildcards skip levels that begin with '$'.
func (n *rnode[M]) match(rest string, root bool, dst []M) []M {
	level, rest, more := cutLevel(rest)
	switch level {
	case "#":
		// '#' matches the parent level too [MQTT-4.7.1-2]; the root
		// has no message, as topic names are never empty.
		if n.ok {
			dst = append(dst, n.msg)
		}
		for l, c := range n.children {
			if !root || !strings.HasPrefix(l, "$") {
				dst = c.appendAll(dst)
			}
		}
	case "+":
		for l, c := range n.children {
			if !root || !strings.HasPrefix(l, "$") {
				dst = c.matchNext(rest, more, dst)
			}
		}
	default:
		if c := n.children[level]; c != nil {
			dst = c.matchNext(rest, more, dst)
		}
	}
	return dst
}

func (n *rnode[M]) matchNext(rest string, more bool, dst []M) []M {
	if more {
		return n.match(rest, false, dst)
	}
	if n.ok {
		dst = append(dst, n.msg)
	}
	return dst
}

// appendAll appends the messages at n and below.
func (n *rnode[M]) appendAll(dst []M) []M {
	if n.ok {
		dst = append(dst, n.msg)
	}
	for _, c := range n.children {
		dst = c.appendAll(dst)
	}
	return dst
}

// All calls yield with each retained topic and message, in no particular
// order, until yield returns false. It works on a snapshot taken under
// the read lock, so yield may call any method of r. All has the shape of
// an [iter.Seq2], so a range loop can use it: for topic, m := range r.All.
func (r *Retained[M]) All(yield func(topic string, m M) bool) {
	type entry struct {
		topic string
		msg   M
	}
	r.mu.RLock()
	entries := make([]entry, 0, r.count)
	var walk func(n *rnode[M])
	walk = func(n *rnode[M]) {
		if n.ok {
			entries = append(entries, entry{n.topic, n.msg})
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(&r.root)
	r.mu.RUnlock()
	for _, e := range entries {
		if !yield(e.topic, e.msg) {
			return
		}
	}
}
