package template

import (
	"regexp"
	"unicode/utf8"

	"github.com/iotcore/iotcore/internal/iot"
)

// nameRule is an AWS naming rule (from the botocore model, via package iot)
// with the words a message uses for it.
type nameRule struct {
	rule  iot.NameRule
	what  string // "thing name"
	chars string // the characters the pattern allows, in words
}

// The rules Render checks rendered values against.
var (
	thingNameRule      = nameRule{iot.ThingNameRule, "thing name", `letters, digits, ":", "_" and "-"`}
	thingTypeNameRule  = nameRule{iot.ThingTypeNameRule, "thing type name", `letters, digits, ":", "_" and "-"`}
	thingGroupNameRule = nameRule{iot.ThingGroupNameRule, "thing group name", `letters, digits, ":", "_" and "-"`}
	// BillingGroupName in the model: [a-zA-Z0-9:_-]+, 1 to 128.
	billingGroupNameRule = nameRule{iot.NameRule{What: "billingGroupName", Min: 1, Max: 128, Pattern: regexp.MustCompile(`^[a-zA-Z0-9:_-]+$`)}, "billing group name", `letters, digits, ":", "_" and "-"`}
	policyNameRule       = nameRule{iot.PolicyNameRule, "policy name", `letters, digits, "_", "+", "=", ",", ".", "@" and "-"`}
	attributeNameRule    = nameRule{iot.AttributeNameRule, "attribute name", `letters, digits, "_", ".", ",", "@", "/", ":", "#" and "-"`}
	attributeValueRule   = nameRule{iot.AttributeValueRule, "attribute value", `letters, digits, "_", ".", ",", "@", "/", ":", "#", "=", "[", "]" and "-"`}
)

// check returns an *Error at path when s breaks the rule, naming the first
// character that is not allowed.
func (n nameRule) check(s, path string) error {
	l := utf8.RuneCountInString(s)
	if l < n.rule.Min {
		return errorf(path, "the %s is empty; it must be %d to %d characters: %s", n.what, n.rule.Min, n.rule.Max, n.chars)
	}
	if l > n.rule.Max {
		return errorf(path, "%s is not a valid %s: it is %d characters long, and the limit is %d", quote(s), n.what, l, n.rule.Max)
	}
	if n.rule.Pattern == nil || n.rule.Pattern.MatchString(s) {
		return nil
	}
	for _, r := range s {
		if !n.rule.Pattern.MatchString(string(r)) {
			return errorf(path, "%s is not a valid %s: it contains %q, and only %s are allowed", quote(s), n.what, string(r), n.chars)
		}
	}
	return errorf(path, "%s is not a valid %s: only %s are allowed", quote(s), n.what, n.chars)
}

// checkCertificateID checks a rendered CertificateId: 64 hexadecimal
// characters, as AWS's certificate IDs are.
func checkCertificateID(s, path string) error {
	if err := iot.CertificateIDRule.Check(s); err != nil {
		return errorf(path, "%s is not a certificate ID: a certificate ID is 64 hexadecimal characters", quote(s))
	}
	return nil
}
