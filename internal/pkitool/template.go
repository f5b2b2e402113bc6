package pkitool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// RegistrationConfig is the JITP part of a CA registration: an inline
// provisioning template and the role AWS IoT assumes to run it, or the name
// of a provisioning template. The zero value registers the CA for JITR.
type RegistrationConfig struct {
	TemplateBody string
	RoleARN      string
	TemplateName string
}

// IsZero reports whether c holds nothing (JITR).
func (c RegistrationConfig) IsZero() bool { return c == RegistrationConfig{} }

// registrationConfigKeys are the members of the aws CLI's
// --registration-config (seed 000's jitp_template.json).
var registrationConfigKeys = []string{"templateBody", "roleArn", "templateName"}

// ParseTemplateFile reads a JITP template file in either of the forms people
// have:
//
//   - a registration config, as seed 000's jitp_template.json and the aws
//     CLI's --registration-config file://...: {"templateBody": "<template as
//     a JSON string>", "roleArn": "..."} (or "templateName"). templateBody
//     may also be the template itself, as a JSON object, which is easier to
//     write than the escaped string;
//   - the template itself: {"Parameters": {...}, "Resources": {...}}, the
//     templateBody of the former, kept byte for byte.
//
// It checks what can be checked without the server: well-formed JSON, a
// template that is a JSON object with Resources, not both a body and a name.
// The server validates the template itself.
func ParseTemplateFile(data []byte) (RegistrationConfig, error) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))) // a BOM, as Windows editors write
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return RegistrationConfig{}, fmt.Errorf("template file: not a JSON object: %w", jsonError(data, err))
	}
	isConfig := slices.ContainsFunc(registrationConfigKeys, func(k string) bool { _, ok := top[k]; return ok })
	if !isConfig {
		if _, ok := top["Resources"]; !ok {
			for _, k := range slices.Sorted(maps.Keys(top)) {
				if want := misspelled(k); want != "" {
					return RegistrationConfig{}, fmt.Errorf("template file: unknown member %q (did you mean %q?)", k, want)
				}
			}
			return RegistrationConfig{}, errors.New(`template file: neither a provisioning template (it has no "Resources") nor a registration config (it has no "templateBody" or "templateName")`)
		}
		return RegistrationConfig{TemplateBody: string(data)}, nil
	}

	var c RegistrationConfig
	for _, k := range slices.Sorted(maps.Keys(top)) {
		v := top[k]
		switch k {
		case "templateBody":
			body, err := templateBody(v)
			if err != nil {
				return RegistrationConfig{}, err
			}
			c.TemplateBody = body
		case "roleArn", "templateName":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return RegistrationConfig{}, fmt.Errorf("template file: %s is not a string", k)
			}
			if k == "roleArn" {
				c.RoleARN = strings.TrimSpace(s)
			} else {
				c.TemplateName = strings.TrimSpace(s)
			}
		default:
			if want := misspelled(k); want != "" {
				return RegistrationConfig{}, fmt.Errorf("template file: unknown member %q (did you mean %q?)", k, want)
			}
			return RegistrationConfig{}, fmt.Errorf("template file: unknown member %q of a registration config; it has %s", k, strings.Join(registrationConfigKeys, ", "))
		}
	}
	switch {
	case c.TemplateBody != "" && c.TemplateName != "":
		return RegistrationConfig{}, errors.New("template file: give templateBody or templateName, not both")
	case c.TemplateBody == "" && c.TemplateName == "":
		return RegistrationConfig{}, errors.New("template file: the registration config has no templateBody and no templateName")
	}
	return c, nil
}

// templateBody returns the template text of a registration config's
// templateBody member: a JSON string holding a template, or a template
// object, which is compacted.
func templateBody(v json.RawMessage) (string, error) {
	var body string
	if err := json.Unmarshal(v, &body); err != nil {
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return "", errors.New("template file: templateBody is neither a string nor a JSON object")
		}
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return "", fmt.Errorf("template file: templateBody: %w", err)
		}
		body = b.String()
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &obj); err != nil {
		return "", fmt.Errorf("template file: templateBody does not hold a JSON object: %w", jsonError([]byte(body), err))
	}
	if _, ok := obj["Resources"]; !ok {
		return "", errors.New(`template file: the template in templateBody has no "Resources"`)
	}
	return body, nil
}

// misspelled returns the registration config member that k is a case
// variant of, or "".
func misspelled(k string) string {
	for _, want := range slices.Concat(registrationConfigKeys, []string{"Resources"}) {
		if strings.EqualFold(k, want) && k != want {
			return want
		}
	}
	return ""
}

// jsonError adds the line and column to a JSON syntax error.
func jsonError(data []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("it is a JSON %s", te.Value)
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	line, col := 1, 1
	for _, b := range data[:min(int(se.Offset), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
