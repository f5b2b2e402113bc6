package topictree

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestRetainedMatchCases(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			var r Retained[string]
			r.Set(tc.topic, "m")
			got := r.Match(mustFilter(t, tc.filter), nil)
			if want := map[bool]int{true: 1, false: 0}[tc.want]; len(got) != want {
				t.Fatalf("Match(%q) over %q = %q, want %d messages", tc.filter, tc.topic, got, want)
			}
		})
	}
}

func TestRetained(t *testing.T) {
	var r Retained[int]
	topics := []string{"a", "a/b", "a/b/c", "a//c", "/", "$SYS/x", "$SYS", "b/$x"}
	for i, topic := range topics {
		r.Set(topic, i)
	}
	r.Set("a/b", 100) // replaces
	if r.Len() != len(topics) {
		t.Fatalf("Len = %d, want %d", r.Len(), len(topics))
	}
	if m, ok := r.Get("a/b"); !ok || m != 100 {
		t.Fatalf("Get(a/b) = %d, %v", m, ok)
	}
	for _, missing := range []string{"a/b/c/d", "b", "a/", "x"} {
		if m, ok := r.Get(missing); ok || m != 0 {
			t.Fatalf("Get(%q) = %d, %v", missing, m, ok)
		}
	}
	for _, tc := range []struct {
		filter string
		want   []int
	}{
		{"#", []int{0, 100, 2, 3, 4, 7}},
		{"a/#", []int{0, 100, 2, 3}},
		{"a/+", []int{100}},
		{"a/+/c", []int{2, 3}},
		{"+", []int{0}},
		{"+/+", []int{100, 4, 7}},
		{"$SYS/#", []int{5, 6}},
		{"$SYS", []int{6}},
		{"+/x", nil},
		{"b/+", []int{7}},
		{"nothing/#", nil},
		{"$share/g/#", nil}, // no retained messages for shared subscriptions
	} {
		got := r.Match(mustFilter(t, tc.filter), nil)
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Match(%q) = %v, want %v", tc.filter, got, tc.want)
		}
	}
	dst := r.Match(mustFilter(t, "$share/g/#"), []int{42})
	if !slices.Equal(dst, []int{42}) {
		t.Errorf("shared Match changed dst: %v", dst)
	}

	seen := map[string]int{}
	r.All(func(topic string, m int) bool {
		seen[topic] = m
		r.Get(topic) // yield may use r
		return true
	})
	if len(seen) != len(topics) || seen["a/b"] != 100 || seen["$SYS"] != 6 {
		t.Fatalf("All saw %v", seen)
	}
	n := 0
	for range r.All {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("All did not stop: %d", n)
	}

	if r.Delete("a/b/c/d") || r.Delete("b") || r.Delete("zzz") {
		t.Fatal("Delete of a missing topic reported true")
	}
	if !r.Delete("a/b") || r.Delete("a/b") {
		t.Fatal("Delete(a/b) wrong")
	}
	if _, ok := r.Get("a/b"); ok {
		t.Fatal("deleted message still there")
	}
	if m, ok := r.Get("a/b/c"); !ok || m != 2 {
		t.Fatal("Delete(a/b) lost a/b/c")
	}
	for _, topic := range topics {
		r.Delete(topic)
	}
	if r.Len() != 0 || r.nodeCount() != 0 || r.root.children != nil {
		t.Fatalf("Len = %d, nodes = %d after deleting everything", r.Len(), r.nodeCount())
	}
}

func TestRetainedPruning(t *testing.T) {
	var r Retained[string]
	topics, _ := differentialSet()
	for round := range 2 {
		for _, topic := range topics {
			r.Set(topic, topic)
		}
		if r.Len() != len(topics) {
			t.Fatalf("Len = %d", r.Len())
		}
		for i := len(topics) - 1; i >= 0; i -= 2 { // deepest-last order first, then the rest
			r.Delete(topics[i])
		}
		for i := len(topics) - 2; i >= 0; i -= 2 {
			r.Delete(topics[i])
		}
		if r.Len() != 0 || r.nodeCount() != 0 {
			t.Fatalf("round %d: Len = %d, nodes = %d", round, r.Len(), r.nodeCount())
		}
	}
}

func TestRetainedConcurrent(t *testing.T) {
	var r Retained[int]
	r.Set("stable", -1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 2000 {
			topic := fmt.Sprintf("t/%d/%d", i%7, i%3)
			if i%2 == 0 {
				r.Set(topic, i)
			} else {
				r.Delete(topic)
			}
		}
	})
	wg.Go(func() {
		var dst []int
		for range 2000 {
			dst = r.Match(Filter{Filter: "#"}, dst[:0])
			if !slices.Contains(dst, -1) {
				t.Error("stable message missing")
				return
			}
			r.Get("t/1/1")
			r.All(func(string, int) bool { return true })
		}
	})
	wg.Wait()
}
