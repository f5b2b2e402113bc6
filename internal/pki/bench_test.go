package pki_test

import (
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

func pkixName(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

// BenchmarkSignedBy measures choosing a CA for an unknown device certificate
// on the connect path: one call per candidate CA with the issuer's name.
func BenchmarkSignedBy(b *testing.B) {
	now := time.Now()
	for _, kt := range []pki.KeyType{pki.KeyECP256, pki.KeyECP384, pki.KeyRSA2048, pki.KeyRSA4096} {
		ca, err := pki.NewRootCA(pkixName("Bench "+string(kt)), pkitest.NewKey(b, kt), now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		leaf, _ := pkitest.NewClient(b, ca, pkixName("device"))
		b.Run(string(kt), func(b *testing.B) {
			for b.Loop() {
				if !pki.SignedBy(leaf, ca.Certificate) {
					b.Fatal("not signed")
				}
			}
		})
	}
	b.Run("name mismatch", func(b *testing.B) {
		ca, other := pkitest.NewRoot(b, "A"), pkitest.NewRoot(b, "B")
		leaf, _ := pkitest.NewClient(b, ca, pkixName("device"))
		for b.Loop() {
			if pki.SignedBy(leaf, other.Certificate) {
				b.Fatal("signed")
			}
		}
	})
}

// BenchmarkCertificateID measures the ID computed for every presented
// certificate.
func BenchmarkCertificateID(b *testing.B) {
	leaf, _ := pkitest.NewClient(b, pkitest.NewRoot(b, "Bench"), pkixName("device"))
	for b.Loop() {
		_ = pki.CertificateID(leaf.Raw)
	}
}

// BenchmarkIssueClient measures CreateKeysAndCertificate's signing step
// (key generation excluded).
func BenchmarkIssueClient(b *testing.B) {
	ca := pkitest.NewRoot(b, "Bench")
	pub := pkitest.NewKey(b, pki.KeyRSA2048).Public()
	now := time.Now()
	for b.Loop() {
		if _, err := ca.IssueClient(pub, pkixName("AWS IoT Certificate"), now, now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}
