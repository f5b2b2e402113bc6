package policy

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Policy language versions accepted in "Version" (IAM grammar).
const (
	// Version2012 is the current policy language; only documents that
	// declare it have their policy variables substituted.
	Version2012 = "2012-10-17"
	// Version2008 is the original policy language, also the default when a
	// document has no "Version": "${...}" is literal text under it.
	Version2008 = "2008-10-17"
)

// Effect is the "Effect" of a statement.
type Effect string

// The two effects. They are case-sensitive in documents.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Document is a parsed, validated policy document.
type Document struct {
	// Version is "2012-10-17", "2008-10-17", or "" when the document has
	// none (which IAM treats as "2008-10-17").
	Version string
	// ID is the optional top-level "Id" element of the IAM grammar.
	ID         string
	Statements []Statement
}

// Statement is one element of a document's "Statement".
// Exactly one of Actions and NotActions is non-empty, and exactly one of
// Resources and NotResources.
type Statement struct {
	Sid          string
	Effect       Effect
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
	// Conditions are the entries of the "Condition" block, flattened in
	// document order: every key of every operator. All must hold.
	Conditions []Condition
}

// Condition is one key of one operator of a "Condition" block, e.g.
// "StringEquals": {"iot:ClientId": ["a", "b"]} gives
// Condition{Operator: "StringEquals", Key: "iot:ClientId", Values: ["a", "b"]}.
// JSON numbers and booleans in the document are kept as their text.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// VariablesEnabled reports whether "${...}" in d are policy variables, which
// IAM only does for documents with "Version": "2012-10-17"; otherwise they
// are literal text.
func (d *Document) VariablesEnabled() bool { return d.Version == Version2012 }

// References returns, sorted and without duplicates, the names of the policy
// variables and condition keys d uses: what a caller must be able to look up
// (through Variables) for d to be evaluated as written. Escapes such as
// "${*}" are not variables.
func (d *Document) References() []string {
	var names []string
	for _, st := range d.Statements {
		if d.VariablesEnabled() {
			for _, r := range slices.Concat(st.Resources, st.NotResources) {
				names = appendVariableNames(names, r)
			}
		}
		for _, c := range st.Conditions {
			names = append(names, c.Key)
			if d.VariablesEnabled() {
				for _, v := range c.Values {
					names = appendVariableNames(names, v)
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func appendVariableNames(names []string, s string) []string {
	toks, err := lexTemplate(s, true)
	if err != nil {
		return names
	}
	for _, t := range toks {
		if t.kind == tokVariable {
			names = append(names, t.text)
		}
	}
	return names
}

// MarshalJSON renders d in a canonical form that Parse accepts and that
// parses back to an equal Document: fixed key order, lists for "Action" and
// "Resource", condition values as lists of strings.
func (d *Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if d.Version != "" {
		b.WriteString(`"Version":`)
		writeJSONString(&b, d.Version)
		b.WriteByte(',')
	}
	if d.ID != "" {
		b.WriteString(`"Id":`)
		writeJSONString(&b, d.ID)
		b.WriteByte(',')
	}
	b.WriteString(`"Statement":[`)
	for i, st := range d.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		st.marshal(&b)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func (st *Statement) marshal(b *bytes.Buffer) {
	b.WriteByte('{')
	if st.Sid != "" {
		b.WriteString(`"Sid":`)
		writeJSONString(b, st.Sid)
		b.WriteByte(',')
	}
	b.WriteString(`"Effect":`)
	writeJSONString(b, string(st.Effect))
	writeList := func(key string, vals []string) {
		if len(vals) == 0 {
			return
		}
		b.WriteString(`,"` + key + `":`)
		writeJSONStrings(b, vals)
	}
	writeList("Action", st.Actions)
	writeList("NotAction", st.NotActions)
	writeList("Resource", st.Resources)
	writeList("NotResource", st.NotResources)
	if len(st.Conditions) > 0 {
		// Group by operator, operators in order of first appearance.
		var ops []string
		for _, c := range st.Conditions {
			if !slices.Contains(ops, c.Operator) {
				ops = append(ops, c.Operator)
			}
		}
		b.WriteString(`,"Condition":{`)
		for i, op := range ops {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, op)
			b.WriteString(":{")
			n := 0
			for _, c := range st.Conditions {
				if c.Operator != op {
					continue
				}
				if n > 0 {
					b.WriteByte(',')
				}
				n++
				writeJSONString(b, c.Key)
				b.WriteByte(':')
				writeJSONStrings(b, c.Values)
			}
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

func writeJSONStrings(b *bytes.Buffer, vals []string) {
	b.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, v)
	}
	b.WriteByte(']')
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode appends a newline
}
