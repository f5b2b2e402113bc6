package registry

import "testing"

// After a change, the cache answers nothing it read before it, keeps none
// of it, and takes no answer read before it.
func TestPrincipalCacheGenerations(t *testing.T) {
	var c principalCache
	a, b := &PrincipalContext{}, &PrincipalContext{}
	g := c.gen.Load()
	c.put("a", g, a)
	c.put("b", g, b)
	if got, ok := c.get("a"); !ok || got != a {
		t.Fatal("a not cached")
	}
	c.invalidate()
	if _, ok := c.get("a"); ok {
		t.Error("a answered after a change")
	}
	c.put("c", c.gen.Load(), &PrincipalContext{})
	c.put("d", g, &PrincipalContext{}) // read before the change, put after
	if _, ok := c.get("d"); ok {
		t.Error("an answer read before the change was cached")
	}
	if n := len(c.entries); n != 1 {
		t.Errorf("%d entries kept, want only c's", n)
	}
}
