package topictree

import (
	"errors"
	"strings"
	"testing"
)

var topicNameCases = []struct {
	name    string
	topic   string
	wantErr string // substring of the error; "" means valid
}{
	{"one level", "a", ""},
	{"levels", "sport/tennis/player1", ""},
	{"single slash", "/", ""},
	{"empty levels", "a//b", ""},
	{"leading slash", "/a", ""},
	{"trailing slash", "a/", ""},
	{"dollar", "$SYS/monitor/Clients", ""},
	{"space", " ", ""},
	{"unicode", "sport/é/日本", ""},
	{"longest", strings.Repeat("a", MaxLength), ""},
	{"empty", "", "at least one character"},
	{"too long", strings.Repeat("a", MaxLength+1), "longer than 65535 bytes"},
	{"invalid utf8", "a/\xff", "not valid UTF-8"},
	{"surrogate", "a/\xed\xa0\x80", "not valid UTF-8"},
	{"null", "a\x00b", "null character"},
	{"plus level", "a/+/b", "wildcard '+'"},
	{"plus inside", "a+", "wildcard '+'"},
	{"hash", "#", "wildcard '#'"},
	{"hash inside", "a/b#", "wildcard '#'"},
}

func TestValidTopicName(t *testing.T) {
	for _, tc := range topicNameCases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidTopicName(tc.topic)
			checkErr(t, err, tc.wantErr, ErrInvalidTopicName)
		})
	}
}

var filterCases = []struct {
	name    string
	filter  string
	want    Filter
	wantErr string // substring of the error; "" means valid
}{
	{"one level", "a", Filter{Filter: "a"}, ""},
	{"hash alone", "#", Filter{Filter: "#"}, ""},
	{"plus alone", "+", Filter{Filter: "+"}, ""},
	{"hash last", "sport/tennis/player1/#", Filter{Filter: "sport/tennis/player1/#"}, ""},
	{"plus levels", "+/+", Filter{Filter: "+/+"}, ""},
	{"plus and hash", "+/tennis/#", Filter{Filter: "+/tennis/#"}, ""},
	{"single slash", "/", Filter{Filter: "/"}, ""},
	{"hash after empty level", "a//#", Filter{Filter: "a//#"}, ""},
	{"dollar", "$SYS/#", Filter{Filter: "$SYS/#"}, ""},
	{"share word alone", "$share", Filter{Filter: "$share"}, ""},
	{"share-like prefix", "$sharex/a", Filter{Filter: "$sharex/a"}, ""},
	{"shared hash", "$share/g/#", Filter{Share: "g", Filter: "#"}, ""},
	{"shared plus", "$share/consumer1/sport/+/player1", Filter{Share: "consumer1", Filter: "sport/+/player1"}, ""},
	{"shared slash filter", "$share/g//", Filter{Share: "g", Filter: "/"}, ""},
	{"shared of share", "$share/g/$share/h/x", Filter{Share: "g", Filter: "$share/h/x"}, ""},
	{"longest", strings.Repeat("a", MaxLength), Filter{Filter: strings.Repeat("a", MaxLength)}, ""},
	{"empty", "", Filter{}, "at least one character"},
	{"too long", strings.Repeat("a", MaxLength+1), Filter{}, "longer than 65535 bytes"},
	{"invalid utf8", "a/\xff", Filter{}, "not valid UTF-8"},
	{"null", "a/\x00", Filter{}, "null character"},
	{"hash not last", "a/#/b", Filter{}, "'#' must be the last level"},
	{"hash twice", "#/#", Filter{}, "'#' must be the last level"},
	{"hash suffix", "a#", Filter{}, "'#' must occupy a whole level"},
	{"hash prefix", "a/#b", Filter{}, "'#' must occupy a whole level"},
	{"plus suffix", "sport+", Filter{}, "'+' must occupy a whole level"},
	{"plus prefix", "a/+b/c", Filter{}, "'+' must occupy a whole level"},
	{"plus and hash level", "+#", Filter{}, "must occupy a whole level"},
	{"share empty name", "$share/", Filter{}, "share name must be at least one character"},
	{"share empty name filter", "$share//a", Filter{}, "share name must be at least one character"},
	{"share no filter", "$share/x", Filter{}, "needs a topic filter"},
	{"share empty filter", "$share/x/", Filter{}, "needs a topic filter"},
	{"share name plus", "$share/a+/b", Filter{}, "share name must not contain"},
	{"share name hash", "$share/#/b", Filter{}, "share name must not contain"},
	{"share name is plus", "$share/+/b", Filter{}, "share name must not contain"},
	{"shared filter hash not last", "$share/g/a/#/b", Filter{}, "'#' must be the last level"},
	{"shared filter plus inside", "$share/g/a+", Filter{}, "'+' must occupy a whole level"},
}

func TestParseFilter(t *testing.T) {
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFilter(tc.filter)
			checkErr(t, err, tc.wantErr, ErrInvalidFilter)
			if got != tc.want {
				t.Errorf("ParseFilter(%q) = %+v, want %+v", tc.filter, got, tc.want)
			}
			if err == nil && got.String() != tc.filter {
				t.Errorf("ParseFilter(%q).String() = %q", tc.filter, got.String())
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := ParseFilter("a/#/b")
	if got, want := err.Error(), `topictree: filter "a/#/b": '#' must be the last level`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	err = ValidTopicName("a/+")
	if got, want := err.Error(), `topictree: topic name "a/+": must not contain the wildcard '+'`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	// A long value is cut short in the message, at a rune boundary.
	long := strings.Repeat("é", MaxLength/2) + "+"
	msg := ValidTopicName(long).Error()
	if len(msg) > 2*maxQuoted+100 || !strings.Contains(msg, `é"...: must not`) || strings.Contains(msg, `\x`) {
		t.Errorf("long value message = %q", msg)
	}
}

// checkErr fails t unless err is nil when wantErr is "", and otherwise an
// error wrapping sentinel whose message contains wantErr.
func checkErr(t *testing.T, err error, wantErr string, sentinel error) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case wantErr == "":
	case err == nil:
		t.Fatalf("no error, want one containing %q", wantErr)
	case !strings.Contains(err.Error(), wantErr):
		t.Fatalf("error %q does not contain %q", err, wantErr)
	case !strings.HasPrefix(err.Error(), "topictree: "):
		t.Fatalf("error %q lacks the package prefix", err)
	case !errors.Is(err, sentinel):
		t.Fatalf("error %q does not wrap %v", err, sentinel)
	}
}

func TestFilterString(t *testing.T) {
	if got := (Filter{Filter: "a/+"}).String(); got != "a/+" {
		t.Errorf("String() = %q", got)
	}
	if got := (Filter{Share: "g", Filter: "a/+"}).String(); got != "$share/g/a/+" {
		t.Errorf("String() = %q", got)
	}
}

func TestCutLevel(t *testing.T) {
	for _, tc := range []struct {
		in, level, rest string
		more            bool
	}{
		{"a", "a", "", false},
		{"a/b", "a", "b", true},
		{"a/", "a", "", true},
		{"/", "", "", true},
		{"", "", "", false},
		{"/a/b", "", "a/b", true},
	} {
		level, rest, more := cutLevel(tc.in)
		if level != tc.level || rest != tc.rest || more != tc.more {
			t.Errorf("cutLevel(%q) = %q, %q, %v; want %q, %q, %v", tc.in, level, rest, more, tc.level, tc.rest, tc.more)
		}
	}
}
