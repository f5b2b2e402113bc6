package iot

import (
	"fmt"
	"regexp"
	"unicode/utf8"
)

// NameRule is a length range and pattern from the AWS IoT API model.
type NameRule struct {
	What     string // e.g. "thingName", used in messages
	Min, Max int
	Pattern  *regexp.Regexp // anchored
}

// Name rules taken from the botocore model (service-2.json) shapes.
var (
	ThingNameRule       = NameRule{"thingName", 1, 128, regexp.MustCompile(`^[a-zA-Z0-9:_-]+$`)}
	ThingTypeNameRule   = NameRule{"thingTypeName", 1, 128, regexp.MustCompile(`^[a-zA-Z0-9:_-]+$`)}
	ThingGroupNameRule  = NameRule{"thingGroupName", 1, 128, regexp.MustCompile(`^[a-zA-Z0-9:_-]+$`)}
	PolicyNameRule      = NameRule{"policyName", 1, 128, regexp.MustCompile(`^[\w+=,.@-]+$`)}
	TemplateNameRule    = NameRule{"templateName", 1, 36, regexp.MustCompile(`^[0-9A-Za-z_-]+$`)}
	CertificateIDRule   = NameRule{"certificateId", 64, 64, regexp.MustCompile(`^(0x)?[a-fA-F0-9]+$`)}
	AttributeNameRule   = NameRule{"attribute name", 1, 128, regexp.MustCompile(`^[a-zA-Z0-9_.,@/:#-]+$`)}
	AttributeValueRule  = NameRule{"attribute value", 0, 800, regexp.MustCompile(`^[a-zA-Z0-9_.,@/:#=\[\]-]*$`)}
	TagKeyRule          = NameRule{"tag key", 1, 128, regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)}
	TagValueRule        = NameRule{"tag value", 0, 256, nil}
	PolicyVersionIDRule = NameRule{"policyVersionId", 1, 10, regexp.MustCompile(`^[0-9]+$`)}
	DescriptionRule     = NameRule{"description", 0, 2028, regexp.MustCompile(`^[[:graph:] ]*$`)}
	RoleARNRule         = NameRule{"roleArn", 20, 2048, nil}
)

// Check returns an InvalidRequestException naming the problem when s breaks the rule.
func (r NameRule) Check(s string) error {
	n := utf8.RuneCountInString(s)
	if n < r.Min || n > r.Max {
		if r.Min == r.Max {
			return Errorf(InvalidRequest, "%s must be exactly %d characters long, got %d", r.What, r.Min, n)
		}
		if n == 0 {
			return Errorf(InvalidRequest, "%s must not be empty", r.What)
		}
		return Errorf(InvalidRequest, "%s must be between %d and %d characters long, got %d", r.What, r.Min, r.Max, n)
	}
	if r.Pattern != nil && !r.Pattern.MatchString(s) {
		return Errorf(InvalidRequest, "%s %q does not match the pattern %s", r.What, s, r.Pattern.String())
	}
	return nil
}

// CheckAttributes validates an attribute map against the model's key and value rules.
func CheckAttributes(attrs map[string]string) error {
	for k, v := range attrs {
		if err := AttributeNameRule.Check(k); err != nil {
			return err
		}
		if err := AttributeValueRule.Check(v); err != nil {
			return Errorf(InvalidRequest, "attribute %q: %s", k, err.(*Error).Message)
		}
	}
	return nil
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// CheckTags validates tags against the model's rules and AWS's limit of 50 per resource.
func CheckTags(tags []Tag) error {
	if len(tags) > 50 {
		return Errorf(InvalidRequest, "a resource can have at most 50 tags, got %d", len(tags))
	}
	for _, t := range tags {
		if err := TagKeyRule.Check(t.Key); err != nil {
			return err
		}
		if err := TagValueRule.Check(t.Value); err != nil {
			return fmt.Errorf("tag %q: %w", t.Key, err)
		}
	}
	return nil
}
