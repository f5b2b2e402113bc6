package policy

import (
	"strings"
	"sync"
)

// cacheKey is a memoised request. A struct of two strings hashes without
// allocating, unlike a concatenation.
type cacheKey struct {
	action, resource string
}

// decisionCache is a bounded map of decisions, safe for concurrent use.
// When full, an insert evicts an arbitrary entry (Go randomises map
// iteration), which costs O(1) and suits the workload: a connection's few
// hot topics survive, a sweep over many topics does not grow memory.
type decisionCache struct {
	mu  sync.RWMutex
	m   map[cacheKey]Decision
	max int
}

func newDecisionCache(max int) *decisionCache {
	return &decisionCache{max: max}
}

func (c *decisionCache) get(action, resource string) (Decision, bool) {
	c.mu.RLock()
	d, ok := c.m[cacheKey{action, resource}]
	c.mu.RUnlock()
	return d, ok
}

func (c *decisionCache) put(action, resource string, d Decision) {
	// Clone: the caller's strings may point into a larger buffer, such as
	// an MQTT packet, that the cache must not keep alive.
	k := cacheKey{strings.Clone(action), strings.Clone(resource)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[cacheKey]Decision)
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = d
}

// len returns the number of memoised decisions.
func (c *decisionCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
