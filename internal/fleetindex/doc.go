// Package fleetindex implements the query language of AWS IoT fleet
// indexing, as SearchIndex and dynamic thing groups use it, and evaluates
// queries against things (index AWS_Things) and thing groups
// (AWS_ThingGroups).
//
// Parse turns a query string into a Query; its errors are *iot.Error with
// code InvalidQueryException and a message naming the fault and the
// character where it is. Query.Match evaluates it against a *Thing or a
// *ThingGroup, which the caller builds from the registry, the shadows and
// connectivity; Sources, Fields and ShadowNames say what a query reads, and
// ThingNames and GroupNames what it requires of names, so a caller can
// load and narrow before matching.
//
// # Language
//
// Sources: the developer guide's pages "Query syntax", "Example thing
// queries", "Example thing group queries" and "Managing thing indexing"
// (cited [DOC query-syntax], [DOC example-queries], ...).
//
//   - field:value, where value matches one word of the field, case
//     insensitively; field names are case sensitive. White space around
//     ':' is allowed (connectivity.timestamp : [1 TO 2]).
//   - Wildcards * (any run of characters) and ? (one character):
//     thingName:my*, thingName:ab?, attributes.x:i*t. field:* matches when
//     the field has a value; * alone matches every document. At most one
//     term may begin with a wildcard, and such a query may be at most 100
//     characters long.
//   - Quoted phrases, "new york": the words in that order. No wildcards in
//     quotes.
//   - Ranges [a TO b] (inclusive), {a TO b} (exclusive), mixed ({75 TO 80]),
//     with "*" for an open end; comparisons field>v, field>=v, field<v, field<=v
//     (field:>v too). When every bound given is a number, values compare as
//     numbers and a value that is not a number is out of range; otherwise
//     they compare as strings, lexicographically and case insensitively.
//   - AND, OR, NOT (uppercase; lowercase and, or, not are words), Lucene's
//     && || ! as synonyms, '-' before a term for NOT and '+' for nothing.
//     A space between terms is AND. Precedence: NOT, then AND, then OR;
//     parentheses group. field:(a OR b) applies the field to each term.
//   - A term without a field searches every registry, shadow and Device
//     Defender text field.
//   - '\' escapes any character: attributes.a\:b:c, thingName:\*.
//   - At most 12 terms (MaxTerms).
//
// Not supported, each an InvalidQueryException: regular expressions
// (/.../), fuzzy and proximity searches (~), boosting (^), and the
// characters ` @ # % ' ; , unless escaped or quoted.
//
// # Fields
//
// AWS_Things: thingName, thingId, thingTypeName, thingGroupNames,
// registry.version, attributes.<key>, connectivity.connected,
// connectivity.timestamp (ms), connectivity.version,
// connectivity.disconnectReason, shadow.reported.<path>,
// shadow.desired.<path>, shadow.delta.<path>, shadow.metadata.<path>,
// shadow.version, shadow.hasDelta, the same under shadow.name.<name>. for
// named shadows, and deviceDefender.<path>. AWS_ThingGroups:
// thingGroupName, thingGroupId, thingGroupDescription, parentGroupNames,
// attributes.<key>, version. A field no document has matches nothing.
// Within a shadow, a path searches arrays element by element
// (shadow.reported.myvalues:2 matches [1,2,3]) and a JSON key containing
// dots is reached by the same dotted path.
//
// # Readings where AWS is silent
//
// Marked "AWS uncertain:" in the code:
//   - precedence is NOT > AND > OR, where Lucene's classic parser gives
//     "a OR b AND c" no precedence;
//   - a string term equals a string value as text, a number term equals a
//     JSON number by value (75 matches 75.0); "75" does not equal the
//     attribute "75.0";
//   - registry.version and shadow.version match, though the guide says
//     versions "aren't searchable";
//   - registry.thingTypeName and registry.thingGroupNames are accepted as
//     thingTypeName and thingGroupNames; in AWS_ThingGroups thingGroupNames
//     is the group's name, as AWS's examples use it, and description is
//     thingGroupDescription;
//   - a term without a field searches names, ids, type, groups, attribute
//     values, and shadow reported, desired and delta values, not metadata
//     or connectivity;
//   - the special characters are literal when escaped or quoted;
//   - nesting of parentheses and NOT is limited to 32.
//
// The package depends on the standard library and internal/iot only, and
// never logs.
package fleetindex
