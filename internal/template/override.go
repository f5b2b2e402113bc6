package template

import (
	"slices"
	"strings"
)

// OverrideSettings values: what provisioning does when the resource already
// exists [DOC provision-template "OverrideSettings"]. The map of a Thing or
// Certificate is keyed by property name (AttributePayload, ThingTypeName,
// ThingGroups; Status). What AWS does for a property without a setting is
// not documented; the provisioner decides.
const (
	OverrideDoNothing = "DO_NOTHING" // leave the existing resource as it is
	OverrideReplace   = "REPLACE"    // replace the value with the template's
	OverrideFail      = "FAIL"       // fail with ResourceConflictsException
	OverrideMerge     = "MERGE"      // AttributePayload and ThingGroups only: merge
)

var overrideValues = []string{OverrideDoNothing, OverrideReplace, OverrideFail, OverrideMerge}

// overrideAliases maps the upper-case names the AWS prose uses to the
// property names its examples use.
var overrideAliases = map[string]string{
	"ATTRIBUTE_PAYLOAD": "AttributePayload",
	"THING_TYPE_NAME":   "ThingTypeName",
	"THING_GROUPS":      "ThingGroups",
}

// overrides parses a resource's OverrideSettings: keys from allowed (or
// their aliases), values one of overrideValues in any case (normalised to
// upper case), MERGE only for the keys in mergeable.
func overrides(v *jsonValue, path, typ string, allowed, mergeable []string) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	if v.kind != jsonObject {
		return nil, errorf(path, "must be an object, got %s", v.kind)
	}
	if len(v.keys) == 0 {
		return nil, nil
	}
	if len(allowed) == 0 {
		return nil, errorf(path, "an %s has no settings to override", typ)
	}
	out := make(map[string]string, len(v.keys))
	for i, key := range v.keys {
		kpath := join(path, key)
		prop := key
		if alias, ok := overrideAliases[key]; ok && slices.Contains(allowed, alias) {
			prop = alias
		}
		if !slices.Contains(allowed, prop) {
			return nil, errorf(path, "unknown setting %q%s; an %s's OverrideSettings has %s", key, didYouMean(key, allowed), typ, listWords(allowed))
		}
		if _, dup := out[prop]; dup {
			return nil, errorf(path, "%s is set twice", prop)
		}
		val := v.vals[i]
		if val.kind != jsonString {
			return nil, errorf(kpath, "must be one of DO_NOTHING, REPLACE, FAIL or MERGE, got %s", val.kind)
		}
		s := strings.ToUpper(val.str)
		if !slices.Contains(overrideValues, s) {
			return nil, errorf(kpath, "%s is not one of DO_NOTHING, REPLACE, FAIL or MERGE", quote(val.str))
		}
		if s == OverrideMerge && !slices.Contains(mergeable, prop) {
			return nil, errorf(kpath, "MERGE applies only to AttributePayload and ThingGroups")
		}
		out[prop] = s
	}
	return out, nil
}
