package topictree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func mustFilter(t testing.TB, s string) Filter {
	t.Helper()
	f, err := ParseFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTreeMatchCases(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			var tree Tree[string]
			tree.Subscribe(mustFilter(t, tc.filter), "c1", 1)
			got := tree.Match(tc.topic, nil)
			if tc.want {
				want := []Subscriber[string]{{Value: "c1", Opts: 1, Filter: tc.filter}}
				if !slices.Equal(got, want) {
					t.Fatalf("Match(%q) with %q = %+v, want %+v", tc.topic, tc.filter, got, want)
				}
			} else if len(got) != 0 {
				t.Fatalf("Match(%q) with %q = %+v, want none", tc.topic, tc.filter, got)
			}
			if h := tree.Has(tc.topic); h != tc.want {
				t.Fatalf("Has(%q) with %q = %v, want %v", tc.topic, tc.filter, h, tc.want)
			}
		})
	}
}

func TestTreeOverlapping(t *testing.T) {
	var tree Tree[string]
	for _, s := range []string{"a/b", "a/+", "a/#", "#", "+/b", "b/#"} {
		tree.Subscribe(mustFilter(t, s), "c1", 0)
	}
	tree.Subscribe(mustFilter(t, "a/b"), "c2", 2)
	got := tree.Match("a/b", nil)
	var names []string
	for _, s := range got {
		names = append(names, s.Value+" "+s.Filter)
	}
	slices.Sort(names)
	want := []string{"c1 #", "c1 +/b", "c1 a/#", "c1 a/+", "c1 a/b", "c2 a/b"}
	if !slices.Equal(names, want) {
		t.Fatalf("Match = %q, want %q", names, want)
	}
	// Match appends to dst and keeps what was there.
	dst := []Subscriber[string]{{Value: "keep"}}
	dst = tree.Match("b", dst)
	if len(dst) != 3 || dst[0].Value != "keep" {
		t.Fatalf("Match appended wrongly: %+v", dst)
	}
	if tree.Has("c/d/e") != true || tree.Has("$c") != false {
		t.Fatal("Has wrong")
	}
}

func TestSubscribeReplace(t *testing.T) {
	var tree Tree[string]
	f := mustFilter(t, "a/+")
	if tree.Subscribe(f, "c1", 1) {
		t.Fatal("first Subscribe reported replaced")
	}
	if !tree.Subscribe(f, "c1", 2) {
		t.Fatal("second Subscribe did not report replaced")
	}
	if tree.Subscribe(mustFilter(t, "$share/g/a/+"), "c1", 3) {
		t.Fatal("shared subscription to the same filter is a separate entry")
	}
	if tree.Len() != 2 {
		t.Fatalf("Len = %d, want 2", tree.Len())
	}
	got := tree.Match("a/x", nil)
	slices.SortFunc(got, func(a, b Subscriber[string]) int { return int(a.Opts) - int(b.Opts) })
	want := []Subscriber[string]{
		{Value: "c1", Opts: 2, Filter: "a/+"},
		{Value: "c1", Opts: 3, Filter: "a/+", Share: "g"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Match = %+v, want %+v", got, want)
	}
	if tree.Unsubscribe(mustFilter(t, "a/#"), "c1") || tree.Unsubscribe(f, "c2") ||
		tree.Unsubscribe(mustFilter(t, "$share/h/a/+"), "c1") {
		t.Fatal("Unsubscribe of a missing subscription reported true")
	}
	if !tree.Unsubscribe(f, "c1") || tree.Unsubscribe(f, "c1") {
		t.Fatal("Unsubscribe reported wrongly")
	}
	if tree.Len() != 1 {
		t.Fatalf("Len = %d, want 1", tree.Len())
	}
}

func TestSharedRoundRobin(t *testing.T) {
	var tree Tree[string]
	g := mustFilter(t, "$share/g/sensors/+")
	tree.Subscribe(g, "m1", 0)
	tree.Subscribe(g, "m2", 0)
	tree.Subscribe(mustFilter(t, "$share/h/sensors/+"), "m3", 0) // another group
	tree.Subscribe(mustFilter(t, "$share/g/sensors/#"), "m4", 0) // same name, another filter
	tree.Subscribe(mustFilter(t, "sensors/+"), "plain", 0)

	counts := map[string]int{}
	var prev string
	for i := range 10 {
		got := tree.Match("sensors/t1", nil)
		if len(got) != 4 {
			t.Fatalf("call %d: Match = %+v, want one per group plus the plain one", i, got)
		}
		var inG string
		for _, s := range got {
			counts[s.Value]++
			if s.Share == "g" && s.Filter == "sensors/+" {
				inG = s.Value
			}
		}
		if inG == prev {
			t.Fatalf("call %d: group g picked %q twice in a row", i, inG)
		}
		prev = inG
	}
	want := map[string]int{"m1": 5, "m2": 5, "m3": 10, "m4": 10, "plain": 10}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("deliveries = %v, want %v", counts, want)
	}

	// With one member left, it gets every message.
	tree.Unsubscribe(g, "m1")
	for range 3 {
		for _, s := range tree.Match("sensors/t1", nil) {
			if s.Share == "g" && s.Filter == "sensors/+" && s.Value != "m2" {
				t.Fatalf("removed member %q still picked", s.Value)
			}
		}
	}
}

// TestPruning checks that the tree returns to no nodes at all after
// subscriptions come and go, in any order.
func TestPruning(t *testing.T) {
	var tree Tree[int]
	_, filters := differentialSet()
	filters = append(filters, "$share/g/a/b", "$share/h/a/b", "$share/g/#", "x/y/z/w/v")
	type sub struct {
		f Filter
		v int
	}
	var subs []sub
	for i, s := range filters {
		f := mustFilter(t, s)
		for v := range 1 + i%3 {
			subs = append(subs, sub{f, v})
		}
	}
	// Enough members on one filter to build the index, and drop it again.
	for v := range 3 * indexFrom {
		subs = append(subs, sub{mustFilter(t, "many"), v}, sub{mustFilter(t, "$share/g/many"), v})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 3 {
		for _, s := range subs {
			if tree.Subscribe(s.f, s.v, 0) {
				t.Fatalf("round %d: %v %d already there", round, s.f, s.v)
			}
		}
		if tree.Len() != len(subs) {
			t.Fatalf("Len = %d, want %d", tree.Len(), len(subs))
		}
		if tree.nodeCount() == 0 {
			t.Fatal("no nodes after subscribing")
		}
		rng.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
		for i, s := range subs {
			if !tree.Unsubscribe(s.f, s.v) {
				t.Fatalf("round %d: Unsubscribe(%v, %d) = false", round, s.f, s.v)
			}
			if got := tree.Len(); got != len(subs)-i-1 {
				t.Fatalf("Len = %d, want %d", got, len(subs)-i-1)
			}
		}
		if n := tree.nodeCount(); n != 0 {
			t.Fatalf("round %d: %d nodes left after unsubscribing everything", round, n)
		}
		if tree.root.children != nil || tree.root.plus != nil || tree.root.hash != nil {
			t.Fatalf("round %d: root keeps children", round)
		}
		if tree.Has("a") || len(tree.Match("many", nil)) != 0 {
			t.Fatal("empty tree matches")
		}
	}
}

func TestMembersIndex(t *testing.T) {
	var m members[int]
	const n = 200
	for v := range n {
		if m.set(v, byte(v)) {
			t.Fatalf("set(%d) replaced", v)
		}
	}
	if m.index == nil {
		t.Fatal("no index for a long set")
	}
	for v := 0; v < n; v += 2 {
		if !m.remove(v) {
			t.Fatalf("remove(%d) = false", v)
		}
	}
	for v := range n {
		i := m.find(v)
		if (i >= 0) != (v%2 == 1) || i >= 0 && (m.list[i].value != v || m.list[i].opts != byte(v)) {
			t.Fatalf("find(%d) = %d after removals", v, i)
		}
	}
	for v := 1; v < n; v += 2 {
		m.remove(v)
	}
	if m.list != nil || m.index != nil {
		t.Fatalf("empty set keeps storage: %d %v", cap(m.list), m.index)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var tree Tree[int]
	for i := range 1000 {
		tree.Subscribe(mustFilter(t, fmt.Sprintf("dev/%d/cmd", i)), i, 0)
	}
	for i, s := range []string{"dev/+/cmd", "dev/#", "#", "+/+/+", "$share/g/dev/+/cmd"} {
		tree.Subscribe(mustFilter(t, s), -i, 0)
	}
	dst := make([]Subscriber[int], 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		dst = tree.Match("dev/500/cmd", dst[:0])
		if !tree.Has("dev/500/cmd") {
			t.Fatal("Has = false")
		}
	})
	if allocs != 0 || len(dst) != 6 {
		t.Fatalf("Match allocates %v times, found %d", allocs, len(dst))
	}
}

// TestConcurrent runs subscribers, unsubscribers and matchers at once; it
// is meant for -race, and also checks that a subscription that is never
// removed is always found.
func TestConcurrent(t *testing.T) {
	var tree Tree[int]
	tree.Subscribe(mustFilter(t, "stable/#"), -1, 0)
	filters := []string{"a/b", "a/+", "a/#", "#", "+/b", "$share/g/a/b", "$share/g/#", "stable/x"}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 0))
			for range 2000 {
				f := mustFilter(t, filters[rng.IntN(len(filters))])
				v := rng.IntN(4)
				if rng.IntN(2) == 0 {
					tree.Subscribe(f, v, 0)
				} else {
					tree.Unsubscribe(f, v)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			var dst []Subscriber[int]
			for range 2000 {
				dst = tree.Match("a/b", dst[:0])
				dst = tree.Match("stable/x", dst[:0])
				if !slices.ContainsFunc(dst, func(s Subscriber[int]) bool { return s.Value == -1 }) {
					t.Error("stable subscription not matched")
					return
				}
				if !tree.Has("stable/y") {
					t.Error("Has missed the stable subscription")
					return
				}
				_ = tree.Len()
			}
		})
	}
	wg.Wait()
	for _, s := range filters {
		for v := range 4 {
			tree.Unsubscribe(mustFilter(t, s), v)
		}
	}
	tree.Unsubscribe(mustFilter(t, "stable/#"), -1)
	if tree.Len() != 0 || tree.nodeCount() != 0 {
		t.Fatalf("Len = %d, nodes = %d after removing everything", tree.Len(), tree.nodeCount())
	}
}

func TestInvalidFilterIsHarmless(t *testing.T) {
	// Subscribe does not validate; a filter ParseFilter rejects is
	// stored literally and must not break matching or pruning.
	var tree Tree[int]
	bad := []Filter{{Filter: "a/#/b"}, {Filter: "#/#"}, {Filter: ""}, {Filter: "a+"}}
	for i, f := range bad {
		tree.Subscribe(f, i, 0)
	}
	if got := tree.Match("a/x/b", nil); len(got) != 0 {
		t.Fatalf("Match = %+v", got)
	}
	if tree.Has("a/x/b") {
		t.Fatal("Has = true")
	}
	for i, f := range bad {
		if !tree.Unsubscribe(f, i) {
			t.Fatalf("Unsubscribe(%v) = false", f)
		}
	}
	if tree.nodeCount() != 0 {
		t.Fatalf("%d nodes left", tree.nodeCount())
	}
}
