package template

import "maps"

// Thing is a rendered AWS::IoT::Thing resource.
type Thing struct {
	LogicalID     string `json:"LogicalID"`
	ThingName     string `json:"ThingName"`
	ThingTypeName string `json:"ThingTypeName,omitempty"`
	// ThingGroups are existing groups to add the thing to; templates do
	// not create groups (nor types) [COMMUNITY, see reference 2.5].
	ThingGroups  []string `json:"ThingGroups,omitempty"`
	BillingGroup string   `json:"BillingGroup,omitempty"`
	// Attributes is the AttributePayload; AttributesSet tells an absent
	// AttributePayload from an empty one ({}).
	Attributes    map[string]string `json:"Attributes,omitempty"`
	AttributesSet bool              `json:"AttributesSet,omitempty"`
	// OverrideSettings maps AttributePayload, ThingTypeName and ThingGroups
	// to one of the Override* values.
	OverrideSettings map[string]string `json:"OverrideSettings,omitempty"`
}

// Thing properties [DOC provision-template "Thing resources"]. AWS also
// documents PackageVersions, which iotcore does not support.
var thingProperties = []string{"ThingName", "AttributePayload", "ThingTypeName", "ThingGroups", "BillingGroup"}

type thingDef struct {
	id, path           string // path: of the Properties object
	name, typ, billing expr   // typ and billing may be nil
	groups             expr   // nil when absent; a list
	attrs              []attribute
	attrsSet           bool
	overrides          map[string]string
}

// attribute is one member of AttributePayload; its name is literal.
type attribute struct {
	name  string
	value expr
}

func (p *parser) thing(id string, props *jsonValue, ppath string, over *jsonValue, opath string) (resource, error) {
	if _, ok := props.member("PackageVersions"); ok {
		return nil, errorf(ppath, "PackageVersions is not supported")
	}
	if err := checkProperties(props, ppath, TypeThing, thingProperties); err != nil {
		return nil, err
	}
	d := &thingDef{id: id, path: ppath}
	var err error
	nv, ok := props.member("ThingName")
	if !ok {
		return nil, errorf(ppath, "ThingName is required")
	}
	if d.name, err = p.stringExpr(nv, join(ppath, "ThingName")); err != nil {
		return nil, err
	}
	if d.typ, err = p.optional(props, ppath, "ThingTypeName"); err != nil {
		return nil, err
	}
	if d.billing, err = p.optional(props, ppath, "BillingGroup"); err != nil {
		return nil, err
	}
	checks := []struct {
		e    expr
		prop string
		rule nameRule
	}{{d.name, "ThingName", thingNameRule}, {d.typ, "ThingTypeName", thingTypeNameRule}, {d.billing, "BillingGroup", billingGroupNameRule}}
	for _, c := range checks {
		if err := checkLiteral(c.e, join(ppath, c.prop), c.rule.check); err != nil {
			return nil, err
		}
	}
	if gv, ok := props.member("ThingGroups"); ok {
		gpath := join(ppath, "ThingGroups")
		if d.groups, err = p.listExpr(gv, gpath); err != nil {
			return nil, err
		}
		if l, ok := d.groups.(*listLiteral); ok {
			for i, e := range l.elems {
				if err := checkLiteral(e, index(gpath, i), thingGroupNameRule.check); err != nil {
					return nil, err
				}
			}
		}
	}
	if av, ok := props.member("AttributePayload"); ok {
		apath := join(ppath, "AttributePayload")
		if av.kind != jsonObject {
			return nil, errorf(apath, "must be an object of attribute names and values, got %s", av.kind)
		}
		if isIntrinsic(av) {
			return nil, errorf(apath, "must be an object of attribute names and values; a function cannot stand for the whole payload")
		}
		d.attrsSet = true
		for i, name := range av.keys {
			vpath := join(apath, name)
			if err := attributeNameRule.check(name, vpath); err != nil {
				return nil, err
			}
			e, err := p.stringExpr(av.vals[i], vpath)
			if err != nil {
				return nil, err
			}
			if err := checkLiteral(e, vpath, attributeValueRule.check); err != nil {
				return nil, err
			}
			d.attrs = append(d.attrs, attribute{name: name, value: e})
		}
	}
	d.overrides, err = overrides(over, opath, TypeThing,
		[]string{"AttributePayload", "ThingTypeName", "ThingGroups"},
		[]string{"AttributePayload", "ThingGroups"})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (d *thingDef) render(r *renderer, out *Resources) error {
	th := &Thing{LogicalID: d.id, OverrideSettings: maps.Clone(d.overrides), AttributesSet: d.attrsSet}
	var err error
	if th.ThingName, err = r.checked(d.name, join(d.path, "ThingName"), thingNameRule); err != nil {
		return err
	}
	if d.typ != nil {
		if th.ThingTypeName, err = r.checked(d.typ, join(d.path, "ThingTypeName"), thingTypeNameRule); err != nil {
			return err
		}
	}
	if d.groups != nil {
		gpath := join(d.path, "ThingGroups")
		if th.ThingGroups, err = r.list(d.groups); err != nil {
			return err
		}
		for i, g := range th.ThingGroups {
			if err := thingGroupNameRule.check(g, index(gpath, i)); err != nil {
				return err
			}
		}
	}
	if d.billing != nil {
		if th.BillingGroup, err = r.checked(d.billing, join(d.path, "BillingGroup"), billingGroupNameRule); err != nil {
			return err
		}
	}
	if d.attrsSet {
		th.Attributes = make(map[string]string, len(d.attrs))
		apath := join(d.path, "AttributePayload")
		for _, a := range d.attrs {
			if th.Attributes[a.name], err = r.checked(a.value, join(apath, a.name), attributeValueRule); err != nil {
				return err
			}
		}
	}
	out.Thing = th
	return nil
}
