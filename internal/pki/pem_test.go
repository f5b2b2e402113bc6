package pki_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGolden parses every testdata/certs/*.pem and compares a summary of the
// result with the .golden file beside it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/certs/*.pem")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".pem")
		t.Run(name, func(t *testing.T) {
			got := summarize(readFile(t, in))
			golden := strings.TrimSuffix(in, ".pem") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := readFile(t, golden); got != want {
				t.Errorf("summary of %s:\ngot:\n%s\nwant:\n%s", in, got, want)
			}
		})
	}
}

func summarize(text string) string {
	var b strings.Builder
	c, err := pki.ParseCertificatePEM(text)
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	} else {
		checkCA := "ok"
		if err := pki.CheckCA(c); err != nil {
			checkCA = err.Error()
		}
		fmt.Fprintf(&b, "id: %s\n", pki.CertificateID(c.Raw))
		fmt.Fprintf(&b, "version: %d\n", c.Version)
		fmt.Fprintf(&b, "serial: %x\n", c.SerialNumber)
		fmt.Fprintf(&b, "subject: %s\n", c.Subject)
		fmt.Fprintf(&b, "issuer: %s\n", c.Issuer)
		fmt.Fprintf(&b, "subject key: %s\n", pki.SubjectKey(c))
		fmt.Fprintf(&b, "issuer key: %s\n", pki.IssuerKey(c))
		fmt.Fprintf(&b, "validity: %s to %s\n", c.NotBefore.UTC().Format("2006-01-02T15:04:05Z"), c.NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
		fmt.Fprintf(&b, "signature: %v\n", c.SignatureAlgorithm)
		fmt.Fprintf(&b, "key: %s\n", keyName(c.PublicKey))
		fmt.Fprintf(&b, "self-signed: %t\n", pki.SignedBy(c, c))
		fmt.Fprintf(&b, "as CA: %s\n", checkCA)
		fmt.Fprintf(&b, "round trip: %t\n", roundTrips(c))
	}
	chain, err := pki.ParseCertificateChainPEM(text)
	if err != nil {
		fmt.Fprintf(&b, "chain error: %v\n", err)
	} else {
		for i, c := range chain {
			fmt.Fprintf(&b, "chain %d: %s\n", i, c.Subject)
		}
	}
	return b.String()
}

func roundTrips(c *x509.Certificate) bool {
	again, err := pki.ParseCertificatePEM(pki.EncodeCertificatePEM(c))
	return err == nil && again.Equal(c)
}

func keyName(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", pub)
}

func TestParseCertificatePEM(t *testing.T) {
	root := pkitest.NewRoot(t, "Parse Root")
	pemText := pki.EncodeCertificatePEM(root.Certificate)
	keyPEM, err := pki.MarshalPrivateKeyPEM(root.Key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    string
		wantErr string // substring; "" means success
	}{
		{"plain", pemText, ""},
		{"leading text", "Certificate:\n    Data: blah\n" + pemText, ""},
		{"leading blank lines", "\n\n  \n" + pemText, ""},
		{"crlf", strings.ReplaceAll(pemText, "\n", "\r\n"), ""},
		{"indented", "  " + strings.ReplaceAll(pemText, "\n", "\n  "), ""},
		{"trailing spaces", strings.ReplaceAll(pemText, "\n", " \t\n"), ""},
		{"no final newline", strings.TrimSuffix(pemText, "\n"), ""},
		{"followed by a key", pemText + keyPEM, ""},
		{"empty", "", "no PEM certificate found"},
		{"text only", "hello", "no PEM certificate found"},
		{"raw base64", strings.Join(strings.Split(pemText, "\n")[1:3], ""), "no PEM certificate found"},
		{"key first", keyPEM + pemText, `PEM block is "PRIVATE KEY", not CERTIFICATE`},
		{"csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", `PEM block is "CERTIFICATE REQUEST", not CERTIFICATE`},
		{"no end line", strings.Split(pemText, "-----END")[0], "malformed PEM"},
		{"damaged base64", strings.Replace(pemText, "\n", "\n!!", 2), "malformed PEM"},
		{"not DER", "-----BEGIN CERTIFICATE-----\naGVsbG8K\n-----END CERTIFICATE-----\n", "x509:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := pki.ParseCertificatePEM(tt.text)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseCertificatePEM: %v", err)
				}
				if !c.Equal(root.Certificate) {
					t.Errorf("parsed %q, want the root certificate", c.Subject)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseCertificatePEM error = %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "parse certificate PEM: ") {
				t.Errorf("error %q lacks the operation prefix", err)
			}
		})
	}
}

func TestParseCertificateChainPEM(t *testing.T) {
	root := pkitest.NewRoot(t, "Chain Root")
	leaf, key := pkitest.NewClient(t, root, pkix.Name{CommonName: "Chain Device"})
	keyPEM, _ := pki.MarshalPrivateKeyPEM(key)
	chainText := pki.EncodeCertificatesPEM([]*x509.Certificate{leaf, root.Certificate})
	tests := []struct {
		name    string
		text    string
		want    []*x509.Certificate
		wantErr string
	}{
		{"one", pki.EncodeCertificatePEM(leaf), []*x509.Certificate{leaf}, ""},
		{"device then CA", chainText, []*x509.Certificate{leaf, root.Certificate}, ""},
		{"crlf", strings.ReplaceAll(chainText, "\n", "\r\n"), []*x509.Certificate{leaf, root.Certificate}, ""},
		{"empty", "", nil, "no PEM certificate found"},
		{"key inside", chainText + keyPEM, nil, `block 3: PEM block is "PRIVATE KEY", not CERTIFICATE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pki.ParseCertificateChainPEM(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d certificates, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !got[i].Equal(tt.want[i]) {
					t.Errorf("certificate %d is %q, want %q", i, got[i].Subject, tt.want[i].Subject)
				}
			}
		})
	}
}

func TestParseCSRPEM(t *testing.T) {
	key := pkitest.NewKey(t, pki.KeyECP256)
	csr, err := pki.CreateCSR(key, pkix.Name{CommonName: "DemoThing", Country: []string{"IN"}})
	if err != nil {
		t.Fatal(err)
	}
	text := pki.EncodeCSRPEM(csr)
	raw := append([]byte(nil), csr.Raw...)
	raw[len(raw)-1] ^= 0xff // inside the signature BIT STRING
	badSig := pki.EncodeCSRPEM(&x509.CertificateRequest{Raw: raw})

	tests := []struct {
		name    string
		text    string
		wantErr string
	}{
		{"plain", text, ""},
		{"legacy type", strings.ReplaceAll(text, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"), ""},
		{"crlf", strings.ReplaceAll(text, "\n", "\r\n"), ""},
		{"bad signature", badSig, "signature"},
		{"certificate", pki.EncodeCertificatePEM(pkitest.NewRoot(t, "x").Certificate), `PEM block is "CERTIFICATE", not CERTIFICATE REQUEST`},
		{"empty", "", "no PEM certificate request found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pki.ParseCSRPEM(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject.CommonName != "DemoThing" {
				t.Errorf("CN = %q, want DemoThing", got.Subject.CommonName)
			}
		})
	}
}

func TestCertificateID(t *testing.T) {
	tests := []struct {
		name string
		der  []byte
		want string
	}{
		{"empty", nil, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", []byte("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pki.CertificateID(tt.der); got != tt.want {
				t.Errorf("CertificateID = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSubjectAndIssuerKey(t *testing.T) {
	root := pkitest.NewRoot(t, "Key Root")
	leaf, _ := pkitest.NewClient(t, root, pkix.Name{CommonName: "Key Device"})
	if got, want := pki.IssuerKey(leaf), pki.SubjectKey(root.Certificate); got != want {
		t.Errorf("IssuerKey(leaf) = %s, want SubjectKey(root) = %s", got, want)
	}
	if pki.SubjectKey(leaf) == pki.SubjectKey(root.Certificate) {
		t.Error("leaf and root have the same subject key")
	}
	if got := len(pki.SubjectKey(leaf)); got != 64 {
		t.Errorf("len(SubjectKey) = %d, want 64", got)
	}
}

func TestPEMEncodeRoundTrip(t *testing.T) {
	root := pkitest.NewRoot(t, "Round Trip")
	text := pki.EncodeCertificatePEM(root.Certificate)
	if !strings.HasPrefix(text, "-----BEGIN CERTIFICATE-----\n") || !strings.HasSuffix(text, "-----END CERTIFICATE-----\n") {
		t.Errorf("EncodeCertificatePEM = %q, want one CERTIFICATE block ending in a newline", text)
	}
	c, err := pki.ParseCertificatePEM(text)
	if err != nil || !c.Equal(root.Certificate) {
		t.Errorf("round trip: %v", err)
	}
}
