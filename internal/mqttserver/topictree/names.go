package topictree

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLength is the longest topic name or topic filter, in bytes, that
// MQTT can carry: a UTF-8 encoded string has a two-byte length prefix
// [MQTT-4.7.3-3].
const MaxLength = 65535

// sharePrefix introduces a shared subscription [MQTT-4.8.2-1].
const sharePrefix = "$share/"

// The errors that [ValidTopicName] and [ParseFilter] return wrap these, so
// callers can tell them apart with [errors.Is] (for example to choose a
// reason code) while the message says what exactly is wrong.
var (
	ErrInvalidTopicName = errors.New("topictree: invalid topic name")
	ErrInvalidFilter    = errors.New("topictree: invalid topic filter")
)

// invalidError is what the validators return: it names the offending
// value and the rule it breaks, and unwraps to one of the sentinels above.
type invalidError struct {
	kind   error  // ErrInvalidTopicName or ErrInvalidFilter
	what   string // "topic name" or "filter"
	value  string
	reason string
}

// maxQuoted bounds how much of a value an error message repeats.
const maxQuoted = 100

func (e *invalidError) Error() string {
	v, more := e.value, ""
	if len(v) > maxQuoted {
		i := maxQuoted
		for i > 0 && !utf8.RuneStart(v[i]) {
			i--
		}
		v, more = v[:i], "..."
	}
	return "topictree: " + e.what + " " + strconv.Quote(v) + more + ": " + e.reason
}

func (e *invalidError) Unwrap() error { return e.kind }

func topicError(name, reason string) error {
	return &invalidError{kind: ErrInvalidTopicName, what: "topic name", value: name, reason: reason}
}

func filterError(filter, reason string) error {
	return &invalidError{kind: ErrInvalidFilter, what: "filter", value: filter, reason: reason}
}

// checkString applies the rules topic names and filters share: at least
// one character [MQTT-4.7.3-1], at most MaxLength bytes and well-formed
// UTF-8 [MQTT-4.7.3-3], and no U+0000 [MQTT-4.7.3-2]. It returns the
// reason, or "" when s is fine.
func checkString(s string) string {
	switch {
	case s == "":
		return "must be at least one character long"
	case len(s) > MaxLength:
		return "longer than " + strconv.Itoa(MaxLength) + " bytes"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains the null character U+0000"
	}
	return ""
}

// ValidTopicName reports whether name may be used as the topic name of a
// PUBLISH: it is non-empty, at most MaxLength bytes of well-formed UTF-8,
// has no U+0000 and no wildcard character '+' or '#' [MQTT-4.7.1-1]. It
// returns nil when name is valid, and otherwise an error that wraps
// [ErrInvalidTopicName] and says what is wrong.
func ValidTopicName(name string) error {
	if r := checkString(name); r != "" {
		return topicError(name, r)
	}
	// A byte scan is enough: the bytes of a multi-byte UTF-8 sequence
	// are all >= 0x80, so '+' and '#' can only be themselves.
	if i := strings.IndexAny(name, "+#"); i >= 0 {
		return topicError(name, "must not contain the wildcard '"+name[i:i+1]+"'")
	}
	return nil
}

// Filter is a parsed topic filter. Share is the share name of a shared
// subscription "$share/<Share>/<Filter>", and "" for an ordinary one;
// Filter is the topic filter proper, without the "$share/<Share>/"
// prefix.
type Filter struct {
	Share  string
	Filter string
}

// String returns the filter as a client writes it: Filter itself, or
// "$share/<Share>/<Filter>" for a shared subscription.
func (f Filter) String() string {
	if f.Share == "" {
		return f.Filter
	}
	return sharePrefix + f.Share + "/" + f.Filter
}

// ParseFilter checks a topic filter from a SUBSCRIBE or UNSUBSCRIBE and
// splits off the share name of a shared subscription. The filter is
// non-empty, at most MaxLength bytes of well-formed UTF-8 without U+0000;
// '#' appears only as the whole last level [MQTT-4.7.1-2] and '+' only as
// a whole level [MQTT-4.7.1-3]. A filter that starts with "$share/" is a
// shared subscription: a non-empty share name without '+', '#' or '/'
// [MQTT-4.8.2-1], then '/' and a non-empty filter that obeys the rules
// above [MQTT-4.8.2-2]. The error, if any, wraps [ErrInvalidFilter].
func ParseFilter(filter string) (Filter, error) {
	if r := checkString(filter); r != "" {
		return Filter{}, filterError(filter, r)
	}
	if !strings.HasPrefix(filter, sharePrefix) {
		if r := checkLevels(filter); r != "" {
			return Filter{}, filterError(filter, r)
		}
		return Filter{Filter: filter}, nil
	}
	rest := filter[len(sharePrefix):]
	name, inner, found := strings.Cut(rest, "/")
	switch {
	case name == "":
		return Filter{}, filterError(filter, "share name must be at least one character long")
	case strings.ContainsAny(name, "+#"):
		return Filter{}, filterError(filter, "share name must not contain '+' or '#'")
	case !found || inner == "":
		return Filter{}, filterError(filter, "shared subscription needs a topic filter after the share name")
	}
	if r := checkLevels(inner); r != "" {
		return Filter{}, filterError(filter, r)
	}
	return Filter{Share: name, Filter: inner}, nil
}

// checkLevels applies the wildcard rules to the levels of a filter and
// returns the reason it is invalid, or "".
func checkLevels(filter string) string {
	for rest, more := filter, true; more; {
		var level string
		level, rest, more = cutLevel(rest)
		if strings.IndexByte(level, '#') >= 0 {
			if level != "#" {
				return "'#' must occupy a whole level"
			}
			if more {
				return "'#' must be the last level"
			}
		}
		if strings.IndexByte(level, '+') >= 0 && level != "+" {
			return "'+' must occupy a whole level"
		}
	}
	return ""
}

// cutLevel splits the first level off a topic name or filter: level is
// s up to the first '/', rest what follows that '/', and more whether
// there was a '/' (so "a/" gives "a", "", true: an empty level follows).
func cutLevel(s string) (level, rest string, more bool) {
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
