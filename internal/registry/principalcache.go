package registry

import (
	"sync"
	"sync/atomic"
)

// maxCachedPrincipals bounds the principal cache: past it, the cache starts
// over. A device reconnecting is served from it as long as nothing was
// written meanwhile.
const maxCachedPrincipals = 16384

// principalCache remembers PrincipalContext answers until the next write.
//
// Every device connection asks for its certificate's PrincipalContext: six
// or more store reads, a quarter of the server's CPU per steady-state
// connect. Any committed change (Service.update) moves the generation on,
// which invalidates every entry at once: no change can be missed, whatever
// it touched. It relies on the Service being the only writer of its Store,
// as it is for the SQLite store.
type principalCache struct {
	gen atomic.Uint64 // moved on after every commit

	mu      sync.Mutex
	entries map[string]cachedPrincipal // by certificate id
	entGen  uint64                     // the generation of the newest entry
}

type cachedPrincipal struct {
	gen uint64
	pc  *PrincipalContext
}

// get returns the cached context of certID if nothing was written since it
// was read.
func (c *principalCache) get(certID string) (*PrincipalContext, bool) {
	gen := c.gen.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[certID]
	if !ok || e.gen != gen {
		return nil, false
	}
	return e.pc, true
}

// put caches pc, read in a snapshot that began at generation gen.
func (c *principalCache) put(certID string, gen uint64, pc *PrincipalContext) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.entGen:
		return // read before a change that newer entries have seen
	case c.entries == nil || gen > c.entGen || len(c.entries) >= maxCachedPrincipals:
		// A new generation makes every entry stale: drop them rather than
		// keep them until the bound.
		c.entries, c.entGen = make(map[string]cachedPrincipal), gen
	}
	c.entries[certID] = cachedPrincipal{gen: gen, pc: pc}
}

// invalidate forgets every entry: called after each commit.
func (c *principalCache) invalidate() { c.gen.Add(1) }
