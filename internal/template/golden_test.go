package template

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata golden files")

// A golden file (testdata/*.txt) is free text, then "-- name --" sections:
//
//   - template: a template body (its final newline is not part of it), or
//     registration-config: the JSON file a seed passes to
//     register-ca-certificate --registration-config, whose templateBody is
//     the template, exactly as the seed's users get it;
//   - cert (optional): a device certificate's subject, one attribute=value
//     per line in encoding order (CN, C, O, OU, ST, dnQualifier,
//     serialNumber; a repeated attribute is a multi-valued one), plus
//     id=<certificateId>; the test makes the certificate with crypto/x509
//     and renders with CertificateParameters' values and explanations;
//   - params (optional): name=value lines, added to (and overriding) the
//     certificate's;
//   - missing (optional): name=explanation lines;
//   - want: "parse error: ...", "render error: ...", or the parameters the
//     template references, the rendered Resources as JSON and the
//     generated name of each inline policy.
//
// Run with -update to rewrite the want sections, then review the diff.

type section struct{ name, body string }

type goldenFile struct {
	comment  string
	sections []section
}

func readGolden(t testing.TB, path string) goldenFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	var cur *section
	var buf strings.Builder
	flush := func() {
		if cur == nil {
			g.comment = buf.String()
		} else {
			cur.body = buf.String()
			g.sections = append(g.sections, *cur)
		}
		buf.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			cur = &section{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])}
			continue
		}
		buf.WriteString(line)
	}
	flush()
	return g
}

func (g goldenFile) get(name string) (string, bool) {
	for _, s := range g.sections {
		if s.name == name {
			return s.body, true
		}
	}
	return "", false
}

// withWant returns the file's text with its want section replaced.
func (g goldenFile) withWant(want string) []byte {
	var b bytes.Buffer
	b.WriteString(g.comment)
	for _, s := range g.sections {
		if s.name != "want" {
			fmt.Fprintf(&b, "-- %s --\n%s", s.name, s.body)
		}
	}
	fmt.Fprintf(&b, "-- want --\n%s", want)
	return b.Bytes()
}

// body returns the template body of a golden file.
func (g goldenFile) body(t testing.TB) string {
	t.Helper()
	if s, ok := g.get("template"); ok {
		return strings.TrimSuffix(s, "\n")
	}
	s, ok := g.get("registration-config")
	if !ok {
		t.Fatal("no template or registration-config section")
	}
	var rc struct {
		TemplateBody string `json:"templateBody"`
	}
	if err := json.Unmarshal([]byte(s), &rc); err != nil {
		t.Fatalf("registration-config: %v", err)
	}
	return rc.TemplateBody
}

// inputs returns the parameters and explanations of a golden file.
func (g goldenFile) inputs(t testing.TB) (params, missing map[string]string) {
	t.Helper()
	params, missing = map[string]string{}, map[string]string{}
	if s, ok := g.get("cert"); ok {
		cert, id := goldenCert(t, s)
		params, missing = CertificateParameters(cert, id)
	}
	for name, dst := range map[string]map[string]string{"params": params, "missing": missing} {
		s, _ := g.get(name)
		for _, line := range strings.Split(s, "\n") {
			if line == "" {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: line %q has no '='", name, line)
			}
			dst[k] = v
		}
	}
	return params, missing
}

var attributeOIDs = map[string]asn1.ObjectIdentifier{
	"CN": {2, 5, 4, 3}, "C": {2, 5, 4, 6}, "O": {2, 5, 4, 10}, "OU": {2, 5, 4, 11},
	"ST": {2, 5, 4, 8}, "L": {2, 5, 4, 7}, "dnQualifier": {2, 5, 4, 46}, "serialNumber": {2, 5, 4, 5},
}

var testKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// newCert makes a self-signed certificate with the given subject.
func newCert(t testing.TB, subject pkix.RDNSequence) *x509.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(subject)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234abcd),
		RawSubject:   raw,
		NotBefore:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, testKey().Public(), testKey())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// goldenCert makes the certificate a cert section describes.
func goldenCert(t testing.TB, s string) (*x509.Certificate, string) {
	t.Helper()
	var subject pkix.RDNSequence
	var id string
	for _, line := range strings.Split(s, "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("cert: line %q has no '='", line)
		}
		if k == "id" {
			id = v
			continue
		}
		oid, ok := attributeOIDs[k]
		if !ok {
			t.Fatalf("cert: unknown attribute %q", k)
		}
		subject = append(subject, pkix.RelativeDistinguishedNameSET{{Type: oid, Value: v}})
	}
	return newCert(t, subject), id
}

// renderGolden is the golden form of parsing and rendering.
func renderGolden(body string, params, missing map[string]string) string {
	tmpl, err := Parse(body)
	if err != nil {
		return "parse error: " + errorText(err) + "\n"
	}
	res, err := tmpl.Render(params, missing)
	if err != nil {
		return "render error: " + errorText(err) + "\n"
	}
	var b strings.Builder
	refs := strings.Join(tmpl.References(), ", ")
	if refs == "" {
		refs = "(none)"
	}
	fmt.Fprintf(&b, "references: %s\n", refs)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return "marshal error: " + err.Error() + "\n"
	}
	for _, p := range res.Policies {
		if p.PolicyDocument != "" {
			fmt.Fprintf(&b, "generated name of %s: %s\n", p.LogicalID, GeneratedPolicyName(p.PolicyDocument))
		}
	}
	return b.String()
}

// errorText is an error's message, marked when it is not an *Error.
func errorText(err error) string {
	var te *Error
	if !errors.As(err, &te) {
		return "(not a *template.Error) " + err.Error()
	}
	if te.Parameter != "" {
		return err.Error() + " [parameter " + te.Parameter + "]"
	}
	return err.Error()
}

func goldenPaths(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files in testdata")
	}
	return files
}

// TestGolden parses and renders each testdata/*.txt.
func TestGolden(t *testing.T) {
	for _, path := range goldenPaths(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			g := readGolden(t, path)
			params, missing := g.inputs(t)
			got := renderGolden(g.body(t), params, missing)
			if *update {
				if err := os.WriteFile(path, g.withWant(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := g.get("want")
			if !ok {
				t.Fatal("no want section; run with -update")
			}
			if got != want {
				t.Errorf("result differs from %s\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}
