package template

import (
	"slices"
	"strconv"
	"strings"
)

// Parameter is a parameter the template declares or references.
type Parameter struct {
	Name string
	// Type is String, Number, List<String> or CommaDelimitedList.
	// A Ref to a list type gives a list (the value split at commas, each
	// item trimmed of spaces).
	Type       string
	Default    string
	HasDefault bool
	// Declared is false for an AWS::IoT::Certificate::* parameter that the
	// template references without declaring it.
	Declared bool
}

// isList reports whether a Ref to the parameter gives a list.
func (p *Parameter) isList() bool {
	return p.Type == "List<String>" || p.Type == "CommaDelimitedList"
}

// Parameter types. AWS documents String only; the others are CloudFormation's.
var paramTypes = []string{"String", "Number", "List<String>", "CommaDelimitedList"}

func (p *parser) parameters(v *jsonValue) error {
	const path = "Parameters"
	if v.kind != jsonObject {
		return errorf(path, "must be an object of parameter declarations, got %s", v.kind)
	}
	for i, name := range v.keys {
		ppath := join(path, name)
		if name == "" {
			return errorf(path, "a parameter name must not be empty")
		}
		decl := v.vals[i]
		if decl.kind != jsonObject {
			return errorf(ppath, `must be an object such as {"Type": "String"}, got %s`, decl.kind)
		}
		prm := &Parameter{Name: name, Declared: true}
		for j, key := range decl.keys {
			kv := decl.vals[j]
			kpath := join(ppath, key)
			switch key {
			case "Type":
				if kv.kind != jsonString {
					return errorf(kpath, "must be a string, got %s", kv.kind)
				}
				if !slices.Contains(paramTypes, kv.str) {
					return errorf(kpath, "unsupported parameter type %q%s; the types are String, Number, List<String> and CommaDelimitedList", kv.str, didYouMean(kv.str, paramTypes))
				}
				prm.Type = kv.str
			case "Default":
				switch kv.kind {
				case jsonString, jsonNumber:
					prm.Default, prm.HasDefault = kv.str, true
				default:
					return errorf(kpath, "must be a string, got %s", kv.kind)
				}
			case "Description":
				if kv.kind != jsonString {
					return errorf(kpath, "must be a string, got %s", kv.kind)
				}
			default:
				return errorf(ppath, "unsupported key %q%s; a parameter has Type, Default and Description", key, didYouMean(key, []string{"Type", "Default", "Description"}))
			}
		}
		if prm.Type == "" {
			return errorf(ppath, `the parameter has no Type; write "Type": "String"`)
		}
		if prm.HasDefault && prm.Type == "Number" && !isNumber(prm.Default) {
			return errorf(join(ppath, "Default"), "%s is not a number, but the parameter's Type is Number", quote(prm.Default))
		}
		if d, ok := decl.member("Default"); ok && d.kind == jsonNumber && prm.Type != "Number" {
			return errorf(join(ppath, "Default"), "must be a string, got a number")
		}
		p.t.params[name] = prm
		p.t.order = append(p.t.order, name)
	}
	return nil
}

// isNumber reports whether s is a number as a Number parameter takes it.
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// Parameters returns the parameters the template declares, in template
// order, followed by the AWS::IoT::Certificate::* parameters it references
// without declaring them.
func (t *Template) Parameters() []Parameter {
	out := make([]Parameter, 0, len(t.params))
	for _, name := range t.order {
		out = append(out, *t.params[name])
	}
	for _, name := range t.refs {
		if p := t.params[name]; !p.Declared {
			out = append(out, *p)
		}
	}
	return out
}

// The parameters AWS derives from a device certificate for JITP
// [DOC jit-provisioning]. A template may reference them without declaring
// them.
const (
	ParamCommonName                 = "AWS::IoT::Certificate::CommonName"
	ParamCountry                    = "AWS::IoT::Certificate::Country"
	ParamOrganization               = "AWS::IoT::Certificate::Organization"
	ParamOrganizationalUnit         = "AWS::IoT::Certificate::OrganizationalUnit"
	ParamDistinguishedNameQualifier = "AWS::IoT::Certificate::DistinguishedNameQualifier"
	ParamStateName                  = "AWS::IoT::Certificate::StateName"
	ParamSerialNumber               = "AWS::IoT::Certificate::SerialNumber"
	ParamID                         = "AWS::IoT::Certificate::Id"
)

// CertificateParameterNames lists the eight certificate parameters.
var CertificateParameterNames = []string{
	ParamCommonName, ParamCountry, ParamOrganization, ParamOrganizationalUnit,
	ParamDistinguishedNameQualifier, ParamStateName, ParamSerialNumber, ParamID,
}

// param resolves a parameter name used by Ref or Fn::Sub at path: a
// declared parameter, or one of the certificate parameters (implicitly a
// String with no Default). It records the reference. how begins an
// error message: "Ref to", "Fn::Sub refers to".
func (p *parser) param(name, path, how string) (*Parameter, error) {
	prm, ok := p.t.params[name]
	if !ok {
		if !slices.Contains(CertificateParameterNames, name) {
			return nil, p.unknownParam(name, path, how)
		}
		prm = &Parameter{Name: name, Type: "String"}
		p.t.params[name] = prm
	}
	if !p.t.refSet[name] {
		p.t.refSet[name] = true
		p.t.refs = append(p.t.refs, name)
	}
	return prm, nil
}

func (p *parser) unknownParam(name, path, how string) error {
	if slices.Contains(p.t.ids, name) {
		return errorf(path, "%s resource %q: only parameters can be referenced", how, name)
	}
	candidates := append(slices.Clone(p.t.order), CertificateParameterNames...)
	hint := didYouMean(name, candidates)
	if hint == "" && strings.HasPrefix(how, "Fn::Sub") && strings.Contains(name, ":") && !strings.HasPrefix(name, "AWS::") {
		hint = " (write ${!" + name + "} for a literal ${" + name + "}, e.g. a policy variable)"
	}
	return errorf(path, "%s unknown parameter %q%s", how, name, hint)
}

// value returns the value of a parameter for a Ref at path: the caller's
// value, else the Default, else an error naming the parameter and, when
// the caller knows it, why it has no value.
func (r *renderer) value(prm *Parameter, path string) (result, error) {
	v, ok := r.params[prm.Name]
	if !ok {
		if !prm.HasDefault {
			msg := "parameter " + quoteName(prm.Name) + " has no value"
			if why := r.missing[prm.Name]; why != "" {
				msg += ": " + why
			} else if prm.Declared {
				msg += " and no Default"
			}
			return result{}, &Error{Path: path, Message: msg, Parameter: prm.Name}
		}
		v = prm.Default
	}
	switch {
	case prm.Type == "Number" && !isNumber(v):
		return result{}, errorf(path, "parameter %s is a Number, but its value %s is not a number", quoteName(prm.Name), quote(v))
	case prm.isList():
		return result{list: splitList(v), isList: true}, nil
	}
	return result{str: v}, nil
}

// splitList splits the value of a list parameter at commas, trimming
// spaces around each item as CloudFormation does for CommaDelimitedList.
func splitList(v string) []string {
	items := strings.Split(v, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return items
}
