// Package topictree implements MQTT topic names and topic filters, a
// subscription tree that maps a published topic name to the subscriptions
// whose filters match it, and a store of retained messages keyed by topic
// name.
//
// It follows MQTT 3.1.1 section 4.7 and MQTT 5.0 sections 4.7 (topic names
// and filters) and 4.8.2 (shared subscriptions). The rules it implements
// are, by their normative tags:
//
//   - [MQTT-4.7.1-1] The wildcard characters '+' and '#' may be used in topic
//     filters but must not be used within a topic name ([ValidTopicName]).
//   - [MQTT-4.7.1-2] The multi-level wildcard '#' must be the last level of a
//     filter and must occupy the whole level; it matches the parent level
//     too, so "sport/#" matches "sport" ([ParseFilter], [Tree.Match]).
//   - [MQTT-4.7.1-3] The single-level wildcard '+' must occupy a whole level
//     ([ParseFilter]).
//   - [MQTT-4.7.2-1] A filter whose first level is a wildcard does not match
//     a topic name that begins with '$', so "#" and "+/x" never match
//     "$SYS/..." or "$aws/..." ([Tree.Match], [Retained.Match]).
//   - [MQTT-4.7.3-1] Topic names and topic filters are at least one
//     character long.
//   - [MQTT-4.7.3-2] Topic names and topic filters do not contain the null
//     character U+0000.
//   - [MQTT-4.7.3-3] Topic names and topic filters are well-formed UTF-8
//     strings no longer than 65535 bytes (MQTT 3.1.1 [MQTT-1.5.3-1], MQTT 5.0
//     [MQTT-1.5.4-1]: no encoded surrogates).
//   - [MQTT-4.8.2-1] A shared subscription's filter starts with "$share/"
//     and has a share name at least one character long.
//   - [MQTT-4.8.2-2] The share name does not contain '/', '+' or '#', and
//     is followed by '/' and a topic filter.
//
// Topic levels are separated by '/', and empty levels are real levels:
// "/a" has the levels "" and "a", "a//b" has three levels, and "/" has two
// empty levels (so "+/+" matches "/" and "+" does not).
//
// Within a shared subscription group (one share name and one filter), a
// published message goes to one member; [Tree.Match] picks the members of
// each group in turn. Retained messages are not sent for shared
// subscriptions (MQTT 5.0 section 4.8.2), so [Retained.Match] returns
// nothing for a shared filter.
//
// The package is pure: it logs nothing, starts no goroutines and does no
// I/O. [Tree] and [Retained] are safe for concurrent use; matching takes
// only a read lock and allocates nothing beyond growing the slice the
// caller passes in. The package does not enforce the MQTT "SHOULD NOT"
// rules on control characters and non-characters, nor any limit on the
// number of levels; callers that want such limits check them first.
package topictree
