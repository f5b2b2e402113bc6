package pki_test

import (
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
)

// pemSeeds returns the contents of testdata files matching pattern plus
// inputs from the table tests, to seed fuzz targets.
func pemSeeds(f *testing.F, pattern string) []string {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	var seeds []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, string(b), strings.ReplaceAll(string(b), "\n", "\r\n"))
	}
	return append(seeds,
		"",
		"hello",
		"-----BEGIN CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\naGVsbG8K\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n",
		"-----BEGIN PRIVATE KEY-----\naGVsbG8K\n-----END PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\naGVsbG8K\n-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN CERTIFICATE REQUEST-----\naGVsbG8K\n-----END CERTIFICATE REQUEST-----\n",
	)
}

func FuzzParseCertificatePEM(f *testing.F) {
	for _, s := range pemSeeds(f, "testdata/certs/*.pem") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := pki.ParseCertificatePEM(text)
		chain, chainErr := pki.ParseCertificateChainPEM(text)
		if chainErr == nil {
			// A chain that parses starts with the certificate that parses.
			if err != nil {
				t.Fatalf("chain parses but first certificate does not: %v", err)
			}
			if !chain[0].Equal(c) {
				t.Fatal("chain[0] differs from ParseCertificatePEM")
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse certificate PEM: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		again, err := pki.ParseCertificatePEM(pki.EncodeCertificatePEM(c))
		if err != nil || !again.Equal(c) {
			t.Fatalf("re-encoded certificate does not parse back: %v", err)
		}
		if id := pki.CertificateID(c.Raw); len(id) != 64 {
			t.Fatalf("CertificateID %q", id)
		}
		// Must not panic, whatever the certificate holds.
		_ = pki.CheckCA(c)
		_ = pki.CheckSignedBy(c, c)
		_ = pki.CheckVerificationCertificate(c, c, strings.Repeat("a", 64))
		_ = pki.CheckPublicKey(c.PublicKey)
		_ = pki.SubjectKey(c) + pki.IssuerKey(c)
	})
}

func FuzzParseCSRPEM(f *testing.F) {
	for _, s := range pemSeeds(f, "testdata/certs/*.pem") {
		f.Add(s)
	}
	key, err := pki.GenerateKey(pki.KeyECP256)
	if err != nil {
		f.Fatal(err)
	}
	csr, err := pki.CreateCSR(key, pkixName("DemoThing"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pki.EncodeCSRPEM(csr))
	f.Add(strings.ReplaceAll(pki.EncodeCSRPEM(csr), "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"))
	f.Fuzz(func(t *testing.T, text string) {
		csr, err := pki.ParseCSRPEM(text)
		if err != nil {
			return
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("ParseCSRPEM accepted a CSR whose signature fails: %v", err)
		}
		_ = pki.CheckCSRKey(csr)
	})
}

func FuzzParsePrivateKeyPEM(f *testing.F) {
	for _, s := range pemSeeds(f, "testdata/keys/*.pem") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		key, err := pki.ParsePrivateKeyPEM(text)
		if err != nil {
			return
		}
		out, err := pki.MarshalPrivateKeyPEM(key)
		if err != nil {
			return // a key Go parses but cannot re-encode is not our bug
		}
		back, err := pki.ParsePrivateKeyPEM(out)
		if err != nil {
			t.Fatalf("re-encoded key does not parse back: %v", err)
		}
		if !back.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
			t.Fatal("re-encoded key differs")
		}
	})
}
