package policy

import (
	"strings"
	"sync"
	"sync/atomic"
)

// cacheKey is a memoised request. A struct of two strings hashes without
// allocating, unlike a concatenation.
type cacheKey struct {
	action, resource string
}

// decisionCache is a bounded map of decisions, safe for concurrent use.
//
// Reads take no lock: a subscriber's decisions are read on the goroutines
// of all its publishers at once, and the reader count of a sync.RWMutex,
// written by every reader, bounced between cores (a fifth of the cost of a
// delivery on two cores). A sync.Map serves repeated keys from a map read
// with one atomic load.
type decisionCache struct {
	m   sync.Map // cacheKey → Decision
	n   atomic.Int64
	max int64
}

func newDecisionCache(max int) *decisionCache {
	return &decisionCache{max: int64(max)}
}

func (c *decisionCache) get(action, resource string) (Decision, bool) {
	d, ok := c.m.Load(cacheKey{action, resource})
	if !ok {
		return 0, false
	}
	return d.(Decision), true
}

func (c *decisionCache) put(action, resource string, d Decision) {
	// Clone: the caller's strings may point into a larger buffer, such as
	// an MQTT packet, that the cache must not keep alive.
	k := cacheKey{strings.Clone(action), strings.Clone(resource)}
	if _, loaded := c.m.Swap(k, d); loaded {
		return
	}
	// Over the bound: forget some other decision. Concurrent puts may
	// overshoot the bound by their number, briefly.
	if c.n.Add(1) > c.max {
		c.m.Range(func(old, _ any) bool {
			if old == k {
				return true
			}
			if _, deleted := c.m.LoadAndDelete(old); deleted {
				c.n.Add(-1)
			}
			return false
		})
	}
}

// len returns the number of memoised decisions.
func (c *decisionCache) len() int { return int(c.n.Load()) }
