package pki_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// FuzzSignedBy feeds certificate pairs to the CA selection checks: every
// device connection and registration decides "did this CA sign it" by
// signature, from DER the attacker controls. They must never panic, SignedBy
// must agree with CheckSignedBy, and a certificate can only be signed by a
// CA whose subject is its issuer.
func FuzzSignedBy(f *testing.F) {
	root := pkitest.NewRoot(f, "Fuzz Root")
	other := pkitest.NewRoot(f, "Fuzz Root") // same name, other key
	inter := pkitest.NewIntermediate(f, root, "Fuzz Intermediate")
	leaf, _ := pkitest.NewClient(f, root, pkix.Name{CommonName: "device"})
	deep, _ := pkitest.NewClient(f, inter, pkix.Name{CommonName: "deep"})
	for _, pair := range [][2]*x509.Certificate{
		{leaf, root.Certificate}, {leaf, other.Certificate}, {deep, inter.Certificate}, {deep, root.Certificate},
		{inter.Certificate, root.Certificate}, {root.Certificate, root.Certificate}, {leaf, leaf},
	} {
		f.Add(pair[0].Raw, pair[1].Raw)
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00}, root.Certificate.Raw)
	f.Fuzz(func(t *testing.T, certDER, caDER []byte) {
		cert, err := x509.ParseCertificate(certDER)
		if err != nil {
			return
		}
		ca, err := x509.ParseCertificate(caDER)
		if err != nil {
			return
		}
		signed := pki.SignedBy(cert, ca)
		if checked := pki.CheckSignedBy(cert, ca) == nil; signed != checked {
			t.Fatalf("SignedBy = %v but CheckSignedBy says %v", signed, checked)
		}
		if signed && pki.IssuerKey(cert) != pki.SubjectKey(ca) {
			t.Fatal("signed by a CA whose subject is not the certificate's issuer")
		}
		_ = pki.CertificateID(cert.Raw)
	})
}
