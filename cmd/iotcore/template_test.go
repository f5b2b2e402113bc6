package main

import (
	"crypto/x509/pkix"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestTemplateCheck runs `iotcore template check` on seed 000's template with
// a certificate that satisfies it and one without the C attribute it needs:
// the dry run predicts what a device's first connection does (see
// internal/server's TestProvisioningFailureIsVisible for the real thing).
func TestTemplateCheck(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	ca := pkitest.NewRoot(t, "Device Root CA")
	good, goodKey := pkitest.NewClient(t, ca, pkix.Name{CommonName: "DemoThing", Country: []string{"IN"}})
	bad, badKey := pkitest.NewClient(t, ca, pkix.Name{CommonName: "NoCountry"})
	goodPath, _ := pkitest.WriteFiles(t, dir, "good", goodKey, good)
	badPath, _ := pkitest.WriteFiles(t, dir, "bad", badKey, bad)
	tmpl, err := filepath.Abs("../../examples/jitp_template.json")
	if err != nil {
		t.Fatal(err)
	}

	ok := mustCLI(t, bin, dir, nil, "template", "check", "--template", tmpl, "--cert", goodPath)
	for _, want := range []string{"thing DemoThing", "attribute country = IN", "attribute version = v1", "then ACTIVE", "policy "} {
		if !strings.Contains(ok.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, ok.stdout)
		}
	}
	if strings.Contains(ok.stdout, "warning") {
		t.Errorf("warnings without --region:\n%s", ok.stdout)
	}
	for _, tc := range []struct {
		region string
		want   string // "" means no warning
	}{
		{"us-east-2", ""},
		{"eu-west-1", "names the region us-east-2, but this server's region is eu-west-1"},
	} {
		out := mustCLI(t, bin, dir, nil, "template", "check", "--template", tmpl, "--cert", goodPath, "--region", tc.region)
		if got := strings.Contains(out.stdout, "warning: policy "); got != (tc.want != "") || !strings.Contains(out.stdout, tc.want) {
			t.Errorf("--region %s: want a warning with %q:\n%s", tc.region, tc.want, out.stdout)
		}
	}
	fail := runCLI(t, bin, dir, nil, "template", "check", "--template", tmpl, "--cert", badPath)
	if fail.code != 1 || !strings.Contains(fail.stderr, "AWS::IoT::Certificate::Country") || !strings.Contains(fail.stderr, "no C (country) attribute") {
		t.Fatalf("certificate without C: exit %d\n%s%s", fail.code, fail.stdout, fail.stderr)
	}
	missing := runCLI(t, bin, dir, nil, "template", "check", "--template", filepath.Join(dir, "nope.json"), "--cert", goodPath)
	if missing.code != 2 {
		t.Fatalf("missing template file: exit %d, want 2\n%s", missing.code, missing.stderr)
	}
}
