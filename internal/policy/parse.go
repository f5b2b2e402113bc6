package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDocumentSize is AWS's limit on a policy document: 2048 characters
// excluding whitespace [DOC iot limits]. Parse enforces it.
const MaxDocumentSize = 2048

var (
	documentKeys  = []string{"Version", "Id", "Statement"}
	statementKeys = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

// Parse parses and validates an AWS IoT policy document. Every error it
// returns has a message that is safe to show to API clients and names the
// problem precisely, e.g.
//
//	statement 2: "Effect" must be "Allow" or "Deny", got "allow"
//
// The grammar is IAM's, strictly: keys are case-sensitive, unknown and
// duplicated keys are errors, and so is anything after the document.
func Parse(doc string) (*Document, error) {
	if n := nonSpaceLen(doc); n > MaxDocumentSize {
		return nil, fmt.Errorf("policy document is %d characters long excluding whitespace; the maximum is %d", n, MaxDocumentSize)
	}
	root, err := decodeJSON(doc)
	if err != nil {
		return nil, err
	}
	if root.kind != jsonObject {
		return nil, fmt.Errorf("policy document must be a JSON object, got %s", root.kind)
	}
	if root.dup != "" {
		return nil, fmt.Errorf("policy document has the key %q twice", root.dup)
	}
	d := &Document{}
	for i, k := range root.keys {
		v := root.vals[i]
		switch k {
		case "Version":
			if v.kind != jsonString {
				return nil, fmt.Errorf("\"Version\" must be a string, got %s", v.kind)
			}
			if v.str != Version2012 && v.str != Version2008 {
				return nil, fmt.Errorf("\"Version\" must be %q or %q, got %q", Version2012, Version2008, v.str)
			}
			d.Version = v.str
		case "Id":
			if v.kind != jsonString {
				return nil, fmt.Errorf("\"Id\" must be a string, got %s", v.kind)
			}
			d.ID = v.str
		case "Statement":
		default:
			return nil, unknownKey("the policy document", k, documentKeys)
		}
	}
	sv, ok := root.member("Statement")
	if !ok {
		return nil, errors.New("policy document has no \"Statement\"")
	}
	var elems []*jsonValue
	switch sv.kind {
	case jsonObject:
		elems = []*jsonValue{sv}
	case jsonArray:
		if len(sv.elems) == 0 {
			return nil, errors.New("\"Statement\" must not be an empty list")
		}
		elems = sv.elems
	default:
		return nil, fmt.Errorf("\"Statement\" must be an object or a list of objects, got %s", sv.kind)
	}
	for i, e := range elems {
		if e.kind != jsonObject {
			return nil, fmt.Errorf("statement %d: must be an object, got %s", i+1, e.kind)
		}
		st, err := parseStatement(e, d.VariablesEnabled())
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i+1, err)
		}
		d.Statements = append(d.Statements, st)
	}
	return d, nil
}

// nonSpaceLen counts the characters of doc that are not white space.
func nonSpaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func unknownKey(where, key string, known []string) error {
	switch key {
	case "Principal", "NotPrincipal":
		return fmt.Errorf("%q is not supported in AWS IoT policies: the principal is what the policy is attached to", key)
	}
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return fmt.Errorf("unknown key %q in %s; keys are case-sensitive (did you mean %q?)", key, where, k)
		}
	}
	return fmt.Errorf("unknown key %q in %s", key, where)
}

func parseStatement(v *jsonValue, vars bool) (Statement, error) {
	var st Statement
	if v.dup != "" {
		return st, fmt.Errorf("the key %q appears twice", v.dup)
	}
	for i, k := range v.keys {
		e := v.vals[i]
		var err error
		switch k {
		case "Sid":
			if e.kind != jsonString {
				return st, fmt.Errorf("\"Sid\" must be a string, got %s", e.kind)
			}
			st.Sid = e.str
		case "Effect":
			if e.kind != jsonString {
				return st, fmt.Errorf("\"Effect\" must be %q or %q, got %s", EffectAllow, EffectDeny, e.kind)
			}
			if e.str != string(EffectAllow) && e.str != string(EffectDeny) {
				return st, fmt.Errorf("\"Effect\" must be %q or %q, got %q", EffectAllow, EffectDeny, e.str)
			}
			st.Effect = Effect(e.str)
		case "Action", "NotAction":
			var list []string
			if list, err = parseStrings(k, e); err != nil {
				return st, err
			}
			for _, a := range list {
				if err := checkAction(a); err != nil {
					return st, fmt.Errorf("%q: %w", k, err)
				}
			}
			if k == "Action" {
				st.Actions = list
			} else {
				st.NotActions = list
			}
		case "Resource", "NotResource":
			var list []string
			if list, err = parseStrings(k, e); err != nil {
				return st, err
			}
			for _, r := range list {
				if err := checkResource(r, vars); err != nil {
					return st, fmt.Errorf("%q: %w", k, err)
				}
			}
			if k == "Resource" {
				st.Resources = list
			} else {
				st.NotResources = list
			}
		case "Condition":
			if st.Conditions, err = parseConditions(e, vars); err != nil {
				return st, err
			}
		default:
			return st, unknownKey("the statement", k, statementKeys)
		}
	}
	if st.Effect == "" {
		return st, errors.New("missing \"Effect\"")
	}
	if err := exactlyOne(v, "Action", "NotAction"); err != nil {
		return st, err
	}
	if err := exactlyOne(v, "Resource", "NotResource"); err != nil {
		return st, err
	}
	return st, nil
}

func exactlyOne(v *jsonValue, key, notKey string) error {
	_, has := v.member(key)
	_, hasNot := v.member(notKey)
	switch {
	case has && hasNot:
		return fmt.Errorf("%q and %q must not both be present", key, notKey)
	case !has && !hasNot:
		return fmt.Errorf("missing %q", key)
	}
	return nil
}

// parseStrings reads a string or a non-empty list of strings.
func parseStrings(key string, v *jsonValue) ([]string, error) {
	switch v.kind {
	case jsonString:
		return []string{v.str}, nil
	case jsonArray:
		if len(v.elems) == 0 {
			return nil, fmt.Errorf("%q must not be an empty list", key)
		}
		out := make([]string, len(v.elems))
		for i, e := range v.elems {
			if e.kind != jsonString {
				return nil, fmt.Errorf("%q element %d must be a string, got %s", key, i+1, e.kind)
			}
			out[i] = e.str
		}
		return out, nil
	}
	return nil, fmt.Errorf("%q must be a string or a list of strings, got %s", key, v.kind)
}

// checkAction accepts "*" and "service:action" where either part may hold
// wildcards. Unknown services and action names are accepted, as IAM does
// (AWS IoT policies may also name e.g. greengrass: actions).
func checkAction(a string) error {
	if a == "" {
		return errors.New("an action must not be empty")
	}
	if a == "*" {
		return nil
	}
	for _, r := range a {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("action %q contains white space or a control character", a)
		}
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || service == "" || name == "" {
		return fmt.Errorf("action %q is not of the form \"service:action\" (e.g. \"iot:Publish\")", a)
	}
	return nil
}

// checkResource rejects empty resources and, when the document's version
// has variables, malformed "${...}".
func checkResource(r string, vars bool) error {
	if r == "" {
		return errors.New("a resource must not be empty")
	}
	if _, err := lexTemplate(r, vars); err != nil {
		return fmt.Errorf("resource %q: %w", r, err)
	}
	return nil
}

// parseConditions reads a "Condition" block: operator -> key -> values.
func parseConditions(v *jsonValue, vars bool) ([]Condition, error) {
	if v.kind != jsonObject {
		return nil, fmt.Errorf("\"Condition\" must be an object, got %s", v.kind)
	}
	if v.dup != "" {
		return nil, fmt.Errorf("\"Condition\" has the operator %q twice", v.dup)
	}
	var out []Condition
	for i, name := range v.keys {
		op, err := parseOperator(name)
		if err != nil {
			return nil, err
		}
		m := v.vals[i]
		if m.kind != jsonObject {
			return nil, fmt.Errorf("condition %q must be an object mapping condition keys to values, got %s", name, m.kind)
		}
		if m.dup != "" {
			return nil, fmt.Errorf("condition %q has the key %q twice", name, m.dup)
		}
		for j, key := range m.keys {
			if key == "" {
				return nil, fmt.Errorf("condition %q has an empty key", name)
			}
			vals, err := conditionValues(m.vals[j])
			if err != nil {
				return nil, fmt.Errorf("condition %q key %q: %w", name, key, err)
			}
			for _, val := range vals {
				if err := checkConditionValue(op, val, vars); err != nil {
					return nil, fmt.Errorf("condition %q key %q: %w", name, key, err)
				}
			}
			out = append(out, Condition{Operator: name, Key: key, Values: vals})
		}
	}
	return out, nil
}

// conditionValues reads a scalar or a non-empty list of scalars; numbers
// and booleans become their JSON text, as IAM compares them as strings.
func conditionValues(v *jsonValue) ([]string, error) {
	scalar := func(e *jsonValue) (string, bool) {
		switch e.kind {
		case jsonString, jsonNumber:
			return e.str, true
		case jsonBool:
			if e.bool {
				return "true", true
			}
			return "false", true
		}
		return "", false
	}
	if v.kind == jsonArray {
		if len(v.elems) == 0 {
			return nil, errors.New("values must not be an empty list")
		}
		out := make([]string, len(v.elems))
		for i, e := range v.elems {
			s, ok := scalar(e)
			if !ok {
				return nil, fmt.Errorf("value %d must be a string, number or boolean, got %s", i+1, e.kind)
			}
			out[i] = s
		}
		return out, nil
	}
	s, ok := scalar(v)
	if !ok {
		return nil, fmt.Errorf("value must be a string, number, boolean or a list of them, got %s", v.kind)
	}
	return []string{s}, nil
}
