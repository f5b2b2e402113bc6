package topictree

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// refMatch is a brute-force reference matcher on split levels, written
// straight from MQTT section 4.7.
func refMatch(filter, topic string) bool {
	f := strings.Split(filter, "/")
	tl := strings.Split(topic, "/")
	if strings.HasPrefix(topic, "$") && (f[0] == "+" || f[0] == "#") {
		return false
	}
	for i, level := range f {
		if level == "#" {
			return true // levels before it matched, so i <= len(tl): parent included
		}
		if i >= len(tl) || level != "+" && level != tl[i] {
			return false
		}
	}
	return len(f) == len(tl)
}

// refValidTopic and refValidFilter are reference validators, also written
// on split levels.
func refValidTopic(s string) bool {
	return s != "" && len(s) <= 65535 && utf8.ValidString(s) &&
		!strings.ContainsRune(s, 0) && !strings.ContainsAny(s, "+#")
}

func refValidFilter(s string) (Filter, bool) {
	if s == "" || len(s) > 65535 || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return Filter{}, false
	}
	var share string
	if parts := strings.SplitN(s, "/", 3); parts[0] == "$share" && len(parts) > 1 {
		if len(parts) < 3 || parts[1] == "" || parts[2] == "" || strings.ContainsAny(parts[1], "+#") {
			return Filter{}, false
		}
		share, s = parts[1], parts[2]
	}
	levels := strings.Split(s, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return Filter{}, false
		case l != "#" && l != "+" && strings.ContainsAny(l, "+#"):
			return Filter{}, false
		}
	}
	return Filter{Share: share, Filter: s}, true
}

var matchCases = []struct {
	name   string
	filter string
	topic  string
	want   bool
}{
	{"hash matches parent", "sport/tennis/player1/#", "sport/tennis/player1", true},
	{"hash matches child", "sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
	{"hash matches grandchild", "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
	{"hash not sibling", "sport/tennis/player1/#", "sport/tennis/player2", false},
	{"hash not grandparent", "sport/tennis/player1/#", "sport/tennis", false},
	{"hash alone", "#", "sport/tennis", true},
	{"hash matches empty level", "sport/#", "sport/", true},
	{"plus one level", "sport/+", "sport/tennis", true},
	{"plus not two levels", "sport/+", "sport/tennis/x", false},
	{"plus not parent", "sport/+", "sport", false},
	{"plus matches empty level", "sport/+", "sport/", true},
	{"plus middle", "sport/+/player1", "sport/tennis/player1", true},
	{"plus middle wrong tail", "sport/+/player1", "sport/tennis/player2", false},
	{"plus first then hash", "+/tennis/#", "sport/tennis", true},
	{"plus alone", "+", "sport", true},
	{"plus alone not leading slash", "+", "/finance", false},
	{"plus plus leading slash", "+/+", "/finance", true},
	{"slash plus leading slash", "/+", "/finance", true},
	{"plus plus matches slash", "+/+", "/", true},
	{"plus does not match slash", "+", "/", false},
	{"hash matches slash", "#", "/", true},
	{"empty levels literal", "a//b", "a//b", true},
	{"empty levels not collapsed", "a/b", "a//b", false},
	{"plus matches empty middle", "a/+/b", "a//b", true},
	{"leading slash is a level", "/a", "a", false},
	{"trailing slash is a level", "a/", "a", false},
	{"exact", "a/b/c", "a/b/c", true},
	{"longer topic", "a/b", "a/b/c", false},
	{"case sensitive", "ACCOUNTS", "Accounts", false},
	{"spaces", "Accounts payable", "Accounts payable", true},
	{"plus not dollar", "+/monitor/Clients", "$SYS/monitor/Clients", false},
	{"hash not dollar", "#", "$SYS/x", false},
	{"hash not aws", "#", "$aws/things/x", false},
	{"plus not dollar single", "+", "$SYS", false},
	{"dollar hash", "$SYS/#", "$SYS/x", true},
	{"dollar hash parent", "$SYS/#", "$SYS", true},
	{"dollar plus", "$SYS/monitor/+", "$SYS/monitor/Clients", true},
	{"dollar literal", "$aws/things/x/shadow/update", "$aws/things/x/shadow/update", true},
	{"dollar level after first", "a/+", "a/$x", true},
	{"dollar not first char", "+/x", "a$/x", true},
	{"hash over dollar level", "a/#", "a/$b", true},
	{"unicode", "sport/+/é", "sport/tennis/é", true},
}

func TestRefMatch(t *testing.T) {
	for _, tc := range matchCases {
		if got := refMatch(tc.filter, tc.topic); got != tc.want {
			t.Errorf("%s: refMatch(%q, %q) = %v, want %v", tc.name, tc.filter, tc.topic, got, tc.want)
		}
	}
	// The topic "" is not a valid topic name, but as one empty level it
	// is what "+" matches.
	if !refMatch("+", "") || refMatch("+/+", "") {
		t.Error("refMatch on the single empty level")
	}
	for _, tc := range filterCases {
		want, ok := refValidFilter(tc.filter)
		if ok != (tc.wantErr == "") || want != tc.want {
			t.Errorf("%s: refValidFilter(%q) = %+v, %v", tc.name, tc.filter, want, ok)
		}
	}
	for _, tc := range topicNameCases {
		if refValidTopic(tc.topic) != (tc.wantErr == "") {
			t.Errorf("%s: refValidTopic(%q) wrong", tc.name, tc.topic)
		}
	}
}

// generate returns every string of 1 to depth levels drawn from alphabet,
// keeping those keep accepts.
func generate(alphabet []string, depth int, keep func(string) bool) []string {
	var out []string
	var rec func(prefix []string)
	rec = func(prefix []string) {
		if len(prefix) > 0 {
			if s := strings.Join(prefix, "/"); keep(s) {
				out = append(out, s)
			}
		}
		if len(prefix) == depth {
			return
		}
		for _, l := range alphabet {
			rec(append(prefix[:len(prefix):len(prefix)], l))
		}
	}
	rec(nil)
	return out
}

func differentialSet() (topics, filters []string) {
	topics = generate([]string{"a", "b", "", "$x"}, 4, func(s string) bool { return ValidTopicName(s) == nil })
	filters = generate([]string{"a", "", "$x", "+", "#"}, 4, func(s string) bool {
		_, err := ParseFilter(s)
		return err == nil
	})
	return topics, filters
}

// TestDifferential subscribes every generated filter, ordinary and
// shared, and checks Match, Has and Retained.Match against refMatch for
// every generated topic.
func TestDifferential(t *testing.T) {
	topics, filters := differentialSet()
	if len(topics) < 300 || len(filters) < 300 {
		t.Fatalf("generated %d topics and %d filters, expected more", len(topics), len(filters))
	}
	var tree Tree[int]
	var ret Retained[string]
	for i, f := range filters {
		tree.Subscribe(Filter{Filter: f}, i, 0)
		tree.Subscribe(Filter{Filter: f}, -1, 1) // same value under every filter
		if i%3 == 0 {
			tree.Subscribe(Filter{Share: "g", Filter: f}, i, 2)
			tree.Subscribe(Filter{Share: "g", Filter: f}, i+1_000_000, 2)
		}
	}
	for _, topic := range topics {
		ret.Set(topic, topic)
	}

	var dst []Subscriber[int]
	for _, topic := range topics {
		dst = tree.Match(topic, dst[:0])
		var got, want []string
		for _, s := range dst {
			got = append(got, s.Share+"|"+s.Filter)
		}
		for i, f := range filters {
			if refMatch(f, topic) {
				want = append(want, "|"+f, "|"+f)
				if i%3 == 0 {
					want = append(want, "g|"+f)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Match(%q):\n got  %q\n want %q", topic, got, want)
		}
		if tree.Has(topic) != (len(want) > 0) {
			t.Fatalf("Has(%q) = %v, want %v", topic, !(len(want) > 0), len(want) > 0)
		}
	}

	var msgs []string
	for _, f := range filters {
		msgs = ret.Match(Filter{Filter: f}, msgs[:0])
		var want []string
		for _, topic := range topics {
			if refMatch(f, topic) {
				want = append(want, topic)
			}
		}
		slices.Sort(msgs)
		slices.Sort(want)
		if !slices.Equal(msgs, want) {
			t.Fatalf("Retained.Match(%q):\n got  %q\n want %q", f, msgs, want)
		}
	}
}
