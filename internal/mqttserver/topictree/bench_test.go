package topictree

import (
	"strconv"
	"testing"
)

const benchSubs = 100_000

// benchTree holds benchSubs subscriptions "dev/<n>/cmd" plus a few
// wildcards and a shared group, as a gateway with many devices might.
func benchTree(b *testing.B) *Tree[int] {
	b.Helper()
	t := new(Tree[int])
	for i := range benchSubs {
		t.Subscribe(Filter{Filter: "dev/" + strconv.Itoa(i) + "/cmd"}, i, 1)
	}
	for i, s := range []string{"dev/+/cmd", "dev/#", "#", "+/+/status", "$SYS/#"} {
		t.Subscribe(mustFilter(b, s), -1-i, 0)
	}
	t.Subscribe(mustFilter(b, "$share/workers/dev/+/cmd"), -10, 0)
	t.Subscribe(mustFilter(b, "$share/workers/dev/+/cmd"), -11, 0)
	return t
}

func BenchmarkMatch(b *testing.B) {
	t := benchTree(b)
	dst := make([]Subscriber[int], 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		dst = t.Match("dev/54321/cmd", dst[:0])
	}
	if len(dst) != 5 { // dev/54321/cmd, dev/+/cmd, dev/#, #, one of workers
		b.Fatalf("matched %d", len(dst))
	}
}

func BenchmarkMatchParallel(b *testing.B) {
	t := benchTree(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]Subscriber[int], 0, 16)
		for pb.Next() {
			dst = t.Match("dev/54321/cmd", dst[:0])
		}
	})
}

func BenchmarkHas(b *testing.B) {
	t := benchTree(b)
	b.ReportAllocs()
	for b.Loop() {
		if !t.Has("other/x/status") {
			b.Fatal("no match")
		}
	}
}

func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	t := benchTree(b)
	f := Filter{Filter: "dev/new/cmd"}
	b.ReportAllocs()
	for b.Loop() {
		t.Subscribe(f, 1, 0)
		t.Unsubscribe(f, 1)
	}
}

func BenchmarkRetainedMatch(b *testing.B) {
	var r Retained[int]
	for i := range benchSubs {
		r.Set("dev/"+strconv.Itoa(i)+"/state", i)
	}
	f := Filter{Filter: "dev/54321/+"}
	dst := make([]int, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Match(f, dst[:0])
	}
	if len(dst) != 1 {
		b.Fatalf("matched %d", len(dst))
	}
}
