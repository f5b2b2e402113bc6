package iotsql

import "strings"

// filter is a FROM clause's MQTT topic filter split into levels once, so
// that matching a message costs no allocation.
type filter struct {
	text   string
	levels []string
}

// validateFilter checks MQTT's topic filter rules [MQTT-4.7.1-2],
// [MQTT-4.7.1-3]: "#" only as the whole last level, "+" only as a whole
// level, and no empty filter.
func validateFilter(f string) string {
	if f == "" {
		return "the FROM clause's topic filter is empty"
	}
	if strings.ContainsRune(f, 0) {
		return "the topic filter contains a NUL character"
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return "'#' must be the whole last level of the topic filter"
		}
		if strings.Contains(l, "+") && l != "+" {
			return "'+' must be a whole level of the topic filter"
		}
	}
	return ""
}

func newFilter(f string) filter { return filter{text: f, levels: strings.Split(f, "/")} }

// matches reports whether topic matches the filter: "+" matches one level,
// "#" the parent level and any number below it [MQTT-4.7.1-2], and a
// filter starting with a wildcard does not match a topic starting with "$"
// [MQTT-4.7.2-1].
func (f *filter) matches(topic string) bool {
	if topic == "" {
		return false
	}
	if topic[0] == '$' && (f.levels[0] == "+" || f.levels[0] == "#") {
		return false
	}
	rest := topic
	for i, l := range f.levels {
		if l == "#" {
			return true
		}
		end := strings.IndexByte(rest, '/')
		var level string
		if end < 0 {
			level = rest
		} else {
			level = rest[:end]
		}
		if l != "+" && l != level {
			return false
		}
		if end < 0 {
			// The topic has no more levels: it matches if the filter has
			// none either, or only "/#" left.
			return i == len(f.levels)-1 || (i == len(f.levels)-2 && f.levels[i+1] == "#")
		}
		rest = rest[end+1:]
	}
	return false
}
