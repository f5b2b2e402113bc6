package template

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseRender parses and renders fuzzed templates with fuzzed
// parameters (name=value lines), seeded from the golden files. It checks
// that nothing panics, that every error is a non-empty *Error, that a
// rendered Resources obeys the rules Render promises, and that rendering
// is deterministic.
func FuzzParseRender(f *testing.F) {
	for _, path := range goldenPaths(f) {
		g := readGolden(f, path)
		params, _ := g.inputs(f)
		var lines []string
		for k, v := range params {
			lines = append(lines, k+"="+v)
		}
		slices.Sort(lines)
		f.Add(g.body(f), strings.Join(lines, "\n"))
	}
	f.Fuzz(func(t *testing.T, body, paramText string) {
		tmpl, err := Parse(body)
		if err != nil {
			if tmpl != nil {
				t.Fatal("Parse returned a Template with an error")
			}
			checkError(t, err)
			return
		}
		_ = tmpl.Parameters()
		_ = tmpl.LogicalIDs()
		if err := tmpl.CheckJITP(); err != nil {
			checkError(t, err)
		}
		_ = tmpl.PolicyDocuments() // must not panic either
		params := map[string]string{}
		for _, line := range strings.Split(paramText, "\n") {
			k, v, _ := strings.Cut(line, "=")
			params[k] = v
		}
		res, err := tmpl.Render(params, nil)
		if err != nil {
			if res != nil {
				t.Fatal("Render returned Resources with an error")
			}
			checkError(t, err)
			return
		}
		checkResources(t, res)
		again, err := tmpl.Render(params, nil)
		if err != nil {
			t.Fatalf("second Render failed: %v", err)
		}
		if diff := cmp.Diff(res, again); diff != "" {
			t.Fatalf("Render is not deterministic (-first +second):\n%s", diff)
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("error %T (%v) is not an *Error", err, err)
	}
	if te.Message == "" {
		t.Fatalf("error with an empty message at %q", te.Path)
	}
}

// checkResources checks the promises Render makes about its result.
func checkResources(t *testing.T, res *Resources) {
	t.Helper()
	if th := res.Thing; th != nil {
		if err := thingNameRule.check(th.ThingName, ""); err != nil {
			t.Fatalf("rendered thing name: %v", err)
		}
		if th.ThingTypeName != "" {
			if err := thingTypeNameRule.check(th.ThingTypeName, ""); err != nil {
				t.Fatalf("rendered thing type: %v", err)
			}
		}
		for _, g := range th.ThingGroups {
			if err := thingGroupNameRule.check(g, ""); err != nil {
				t.Fatalf("rendered thing group: %v", err)
			}
		}
		for k, v := range th.Attributes {
			if err := attributeNameRule.check(k, ""); err != nil {
				t.Fatalf("rendered attribute name: %v", err)
			}
			if err := attributeValueRule.check(v, ""); err != nil {
				t.Fatalf("rendered attribute value: %v", err)
			}
		}
		if len(th.Attributes) > 0 && !th.AttributesSet {
			t.Fatal("attributes without AttributesSet")
		}
	}
	if c := res.Certificate; c != nil {
		n := 0
		for _, s := range []string{c.CertificateID, c.CertificatePem, c.CertificateSigningRequest} {
			if s != "" {
				n++
			}
		}
		if n > 1 {
			t.Fatalf("certificate has %d forms: %+v", n, c)
		}
		if c.CertificateID != "" {
			if err := checkCertificateID(c.CertificateID, ""); err != nil {
				t.Fatalf("rendered certificate ID: %v", err)
			}
		}
		if c.Status != "" && c.Status != "ACTIVE" && c.Status != "INACTIVE" {
			t.Fatalf("status %q", c.Status)
		}
	}
	for _, p := range res.Policies {
		if (p.PolicyName == "") == (p.PolicyDocument == "") {
			t.Fatalf("policy %q: want exactly one of PolicyName and PolicyDocument: %+v", p.LogicalID, p)
		}
		if p.PolicyName != "" {
			if err := policyNameRule.check(p.PolicyName, ""); err != nil {
				t.Fatalf("rendered policy name: %v", err)
			}
		}
	}
}
