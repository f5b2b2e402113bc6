package fleetindex

import "strings"

// fieldKind is what a field name refers to, resolved once at parse time.
type fieldKind uint8

const (
	fUnknown fieldKind = iota // a field no document has: matches nothing
	fAll                      // no field: the term is searched in every text field

	// AWS_Things
	fThingName
	fThingID
	fThingType
	fGroupNames // thingGroupNames: a thing's groups; in AWS_ThingGroups, the group's name
	fRegistryVersion
	fAttribute // attributes.<key>; key "" is every attribute
	fConnected
	fConnTimestamp
	fConnVersion
	fDisconnectReason
	fShadowSection // shadow[.name.<n>].<section>[.<path>]
	fShadowVersion
	fShadowHasDelta
	fDeviceDefender

	// AWS_ThingGroups
	fGroupName
	fGroupID
	fGroupDescription
	fParentGroups
	fVersion
)

// field is a resolved field name.
type field struct {
	name    string // as written, unescaped; "" for fAll
	kind    fieldKind
	key     string // fAttribute: attribute key; shadow kinds: shadow name ("" classic)
	section string // fShadowSection: reported, desired, delta or metadata
	path    path   // fShadowSection, fDeviceDefender: the dotted path below it
}

// path is a dotted path below a JSON object. JSON keys may contain dots,
// so a key may be any run of consecutive segments; each such key is a
// substring of dotted, so none is built while matching.
type path struct {
	dotted string
	starts []int // byte offset of each segment in dotted
}

// segments is the number of segments.
func (p path) segments() int { return len(p.starts) }

// key is segments i to j-1 joined with dots.
func (p path) key(i, j int) string {
	end := len(p.dotted)
	if j < len(p.starts) {
		end = p.starts[j] - 1
	}
	return p.dotted[p.starts[i]:end]
}

// resolveField maps an AWS field name to what it reads. Field names are
// case sensitive [DOC query-syntax: "All field names are case sensitive"].
func resolveField(name string) field {
	f := field{name: name}
	switch name {
	case "":
		f.kind = fAll
	case "thingName":
		f.kind = fThingName
	case "thingId":
		f.kind = fThingID
	// AWS uncertain: queries use thingTypeName and thingGroupNames while the
	// managed-field list calls them registry.thingTypeName and
	// registry.thingGroupNames; both spellings are accepted.
	case "thingTypeName", "registry.thingTypeName":
		f.kind = fThingType
	case "thingGroupNames", "registry.thingGroupNames":
		f.kind = fGroupNames
	// AWS uncertain: the Query syntax page says "Device shadow and registry
	// versions aren't searchable", yet registry.version and shadow.version
	// are managed Number fields; they are matched here.
	case "registry.version":
		f.kind = fRegistryVersion
	case "attributes":
		f.kind = fAttribute
	case "connectivity.connected":
		f.kind = fConnected
	case "connectivity.timestamp":
		f.kind = fConnTimestamp
	case "connectivity.version":
		f.kind = fConnVersion
	case "connectivity.disconnectReason":
		f.kind = fDisconnectReason
	case "thingGroupName":
		f.kind = fGroupName
	case "thingGroupId":
		f.kind = fGroupID
	// AWS uncertain: the managed field is listed as "description"; the
	// indexed document calls it thingGroupDescription. Both are accepted.
	case "thingGroupDescription", "description":
		f.kind = fGroupDescription
	case "parentGroupNames":
		f.kind = fParentGroups
	case "version":
		f.kind = fVersion
	default:
		switch {
		case strings.HasPrefix(name, "attributes."):
			// Attribute keys may contain dots: everything after
			// "attributes." is the key.
			f.kind, f.key = fAttribute, name[len("attributes."):]
		case name == "deviceDefender" || strings.HasPrefix(name, "deviceDefender."):
			f.kind = fDeviceDefender
			f.path = splitPath(strings.TrimPrefix(strings.TrimPrefix(name, "deviceDefender"), "."))
		case strings.HasPrefix(name, "shadow."):
			resolveShadowField(&f, name[len("shadow."):])
		}
	}
	return f
}

// resolveShadowField reads what follows "shadow.": either
// name.<shadow>.<rest> for a named shadow or <rest> for the classic one,
// where rest is version, hasDelta, or a section and a path.
func resolveShadowField(f *field, rest string) {
	if after, ok := strings.CutPrefix(rest, "name."); ok {
		// AWS uncertain: shadow names cannot contain dots, so the name
		// runs to the next dot.
		name, r, ok := strings.Cut(after, ".")
		if !ok || name == "" {
			return
		}
		f.key, rest = name, r
	}
	switch rest {
	case "version":
		f.kind = fShadowVersion
		return
	case "hasDelta":
		f.kind = fShadowHasDelta
		return
	}
	section, path, _ := strings.Cut(rest, ".")
	switch section {
	case "reported", "desired", "delta", "metadata":
		f.kind, f.section, f.path = fShadowSection, section, splitPath(path)
	}
}

// splitPath splits a dotted path; "" is the empty path.
func splitPath(s string) path {
	p := path{dotted: s}
	if s == "" {
		return p
	}
	p.starts = append(p.starts, 0)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			p.starts = append(p.starts, i+1)
		}
	}
	return p
}

// source says which data source a field reads.
func (k fieldKind) source() Sources {
	switch k {
	case fAll:
		return SourceRegistry | SourceShadow | SourceDeviceDefender
	case fConnected, fConnTimestamp, fConnVersion, fDisconnectReason:
		return SourceConnectivity
	case fShadowSection, fShadowVersion, fShadowHasDelta:
		return SourceShadow
	case fDeviceDefender:
		return SourceDeviceDefender
	case fUnknown:
		return 0
	}
	return SourceRegistry
}
