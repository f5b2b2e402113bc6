package template

import (
	"slices"
	"strings"
)

// Resource types [DOC provision-template "Resources section"].
const (
	TypeThing       = "AWS::IoT::Thing"
	TypeCertificate = "AWS::IoT::Certificate"
	TypePolicy      = "AWS::IoT::Policy"
)

var resourceTypes = []string{TypeThing, TypeCertificate, TypePolicy}

// resource is a parsed resource declaration.
type resource interface {
	render(r *renderer, out *Resources) error
}

// resources parses the Resources section. AWS provisions one thing and
// one certificate per device, so a template declares at most one of each;
// it may declare any number of policies.
func (p *parser) resources(v *jsonValue) error {
	const path = "Resources"
	if v.kind != jsonObject {
		return errorf(path, "must be an object of resources, got %s", v.kind)
	}
	p.t.ids = slices.Clone(v.keys) // first, so that a Ref to one of them is reported as such
	var thingID, certID string
	for i, id := range v.keys {
		rpath := join(path, id)
		if id == "" {
			return errorf(path, "a resource's logical name must not be empty")
		}
		rv := v.vals[i]
		if rv.kind != jsonObject {
			return errorf(rpath, "must be an object with Type and Properties, got %s", rv.kind)
		}
		keys := []string{"Type", "Properties", "OverrideSettings"}
		for _, k := range rv.keys {
			if !slices.Contains(keys, k) {
				return errorf(rpath, "unknown key %q%s; a resource has Type, Properties and OverrideSettings", k, didYouMean(k, keys))
			}
		}
		tv, ok := rv.member("Type")
		if !ok {
			return errorf(rpath, "the resource has no Type")
		}
		if tv.kind != jsonString {
			return errorf(join(rpath, "Type"), "must be a string, got %s", tv.kind)
		}
		props, ok := rv.member("Properties")
		if !ok {
			return errorf(rpath, "the resource has no Properties")
		}
		ppath := join(rpath, "Properties")
		if props.kind != jsonObject {
			return errorf(ppath, "must be an object, got %s", props.kind)
		}
		over, _ := rv.member("OverrideSettings")
		var res resource
		var err error
		switch tv.str {
		case TypeThing:
			if thingID != "" {
				return errorf(rpath, "a template declares at most one %s, and %q is one already", TypeThing, thingID)
			}
			thingID = id
			res, err = p.thing(id, props, ppath, over, join(rpath, "OverrideSettings"))
		case TypeCertificate:
			if certID != "" {
				return errorf(rpath, "a template declares at most one %s, and %q is one already", TypeCertificate, certID)
			}
			certID = id
			res, err = p.certificate(id, props, ppath, over, join(rpath, "OverrideSettings"))
		case TypePolicy:
			res, err = p.policy(id, props, ppath, over, join(rpath, "OverrideSettings"))
		default:
			return errorf(join(rpath, "Type"), "unsupported resource type %q%s; the types are %s, %s and %s", tv.str, didYouMean(tv.str, resourceTypes), TypeThing, TypeCertificate, TypePolicy)
		}
		if err != nil {
			return err
		}
		p.t.resources = append(p.t.resources, res)
	}
	return nil
}

// checkProperties rejects properties a resource type does not have.
func checkProperties(props *jsonValue, ppath, typ string, allowed []string) error {
	for _, k := range props.keys {
		if !slices.Contains(allowed, k) {
			return errorf(ppath, "unknown property %q%s; an %s has %s", k, didYouMean(k, allowed), typ, listWords(allowed))
		}
	}
	return nil
}

// listWords writes "a, b and c".
func listWords(words []string) string {
	switch len(words) {
	case 0:
		return "none"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// optional parses an optional string property.
func (p *parser) optional(props *jsonValue, ppath, name string) (expr, error) {
	v, ok := props.member(name)
	if !ok {
		return nil, nil
	}
	return p.stringExpr(v, join(ppath, name))
}

// checkLiteral applies a rendered-value check to a literal when parsing,
// so a template whose text alone breaks a rule fails at once.
func checkLiteral(e expr, path string, check func(s, path string) error) error {
	if l, ok := e.(literal); ok {
		return check(string(l), path)
	}
	return nil
}
