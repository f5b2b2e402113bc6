package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ForeignARN is a Resource or NotResource of a document that is an AWS IoT
// ARN in another region or account than the server's. Every resource a
// server has is named arn:aws:iot:<its region>:<its account>:..., so such a
// Resource matches nothing there: a device whose only iot:Connect grant
// names eu-west-1 is refused by a us-east-2 server, with no other sign of
// why. A foreign NotResource excludes nothing.
type ForeignARN struct {
	Resource string // as written in the document
	Not      bool   // a NotResource rather than a Resource
	Field    string // "region" or "account"
	Named    string // the region or account the ARN names, as written
	Want     string // the server's region or account
}

// String says what is wrong in words, e.g.
//
//	Resource "arn:aws:iot:eu-west-1:123456789012:client/d1" names the region eu-west-1, but this server's region is us-east-2
func (f ForeignARN) String() string {
	elem := "Resource"
	if f.Not {
		elem = "NotResource"
	}
	return fmt.Sprintf("%s %q names the %s %s, but this server's %s is %s", elem, f.Resource, f.Field, f.Named, f.Field, f.Want)
}

// ForeignARNs returns the resources of d, in document order, that are AWS
// IoT ARNs naming another region or account than region and account, the
// server's. A wildcard or a policy variable in the region or account may
// stand for the server's and is never reported; neither is a resource that
// is not an arn:aws:iot ARN (such as "*").
func (d *Document) ForeignARNs(region, account string) []ForeignARN {
	var out []ForeignARN
	for _, st := range d.Statements {
		for _, set := range []struct {
			not       bool
			resources []string
		}{{false, st.Resources}, {true, st.NotResources}} {
			for _, r := range set.resources {
				if f, ok := foreignARN(r, d.VariablesEnabled(), region, account); ok {
					f.Not = set.not
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// foreignARN decides one resource. It asks whether the resource, as a
// pattern, could match anything that starts with the server's ARN prefix:
// first "arn:aws:iot:" (else it is not an IoT ARN and not our concern),
// then with the region, then with the account.
func foreignARN(resource string, vars bool, region, account string) (ForeignARN, bool) {
	toks, err := lexTemplate(resource, vars)
	if err != nil {
		return ForeignARN{}, false
	}
	prefix := "arn:aws:iot:"
	if !mayStartWith(toks, prefix) {
		return ForeignARN{}, false
	}
	fields := strings.SplitN(resource, ":", 6)
	named := func(i int) string {
		if i < len(fields) {
			return fields[i]
		}
		return ""
	}
	prefix += region + ":"
	if !mayStartWith(toks, prefix) {
		return ForeignARN{Resource: resource, Field: "region", Named: named(3), Want: region}, true
	}
	if !mayStartWith(toks, prefix+account+":") {
		return ForeignARN{Resource: resource, Field: "account", Named: named(4), Want: account}, true
	}
	return ForeignARN{}, false
}

// mayStartWith reports whether the pattern toks matches some string that
// begins with prefix. A "*", or a policy variable, which may stand for
// anything, can take the rest of prefix; so once one is reached the answer
// is yes.
func mayStartWith(toks []token, prefix string) bool {
	for _, t := range toks {
		if prefix == "" {
			return true
		}
		switch t.kind {
		case tokLiteral:
			n := min(len(t.text), len(prefix))
			if t.text[:n] != prefix[:n] {
				return false
			}
			prefix = prefix[n:]
		case tokQuestion:
			_, size := utf8.DecodeRuneInString(prefix)
			prefix = prefix[size:]
		default:
			return true
		}
	}
	return prefix == ""
}
