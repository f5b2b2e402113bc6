package topictree

import (
	"slices"
	"testing"
)

func FuzzParseFilter(f *testing.F) {
	for _, tc := range filterCases {
		f.Add(tc.filter)
	}
	for _, tc := range topicNameCases {
		f.Add(tc.topic)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFilter(s)
		want, ok := refValidFilter(s)
		if (err == nil) != ok || got != want {
			t.Fatalf("ParseFilter(%q) = %+v, %v; reference says %+v, %v", s, got, err, want, ok)
		}
		if err == nil && got.String() != s {
			t.Fatalf("ParseFilter(%q).String() = %q", s, got.String())
		}
		if terr := ValidTopicName(s); (terr == nil) != refValidTopic(s) {
			t.Fatalf("ValidTopicName(%q) = %v, reference disagrees", s, terr)
		}
	})
}

// FuzzMatch checks that Tree and Retained agree with refMatch on one
// filter and one topic, among a few fixed subscriptions.
func FuzzMatch(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.filter, tc.topic)
		f.Add("$share/g/"+tc.filter, tc.topic)
	}
	fixed := []string{"#", "+", "+/+", "a/#", "$SYS/#"}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		pf, err := ParseFilter(filter)
		if err != nil || ValidTopicName(topic) != nil {
			return
		}
		var tree Tree[int]
		tree.Subscribe(pf, 0, 0)
		for i, s := range fixed {
			tree.Subscribe(Filter{Filter: s}, i+1, 0)
		}
		var want []int
		if refMatch(pf.Filter, topic) {
			want = append(want, 0)
		}
		for i, s := range fixed {
			if refMatch(s, topic) {
				want = append(want, i+1)
			}
		}
		var got []int
		for _, s := range tree.Match(topic, nil) {
			got = append(got, s.Value)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("Match(%q) with %q = %v, want %v", topic, filter, got, want)
		}
		if tree.Has(topic) != (len(want) > 0) {
			t.Fatalf("Has(%q) with %q disagrees", topic, filter)
		}

		var r Retained[string]
		r.Set(topic, topic)
		msgs := r.Match(pf, nil)
		if wantN := map[bool]int{true: 1}[pf.Share == "" && refMatch(pf.Filter, topic)]; len(msgs) != wantN {
			t.Fatalf("Retained.Match(%q) over %q = %q", filter, topic, msgs)
		}

		if !tree.Unsubscribe(pf, 0) || !r.Delete(topic) {
			t.Fatal("could not remove")
		}
		for i, s := range fixed {
			tree.Unsubscribe(Filter{Filter: s}, i+1)
		}
		if tree.nodeCount() != 0 || r.nodeCount() != 0 {
			t.Fatalf("nodes left: tree %d, retained %d", tree.nodeCount(), r.nodeCount())
		}
	})
}
