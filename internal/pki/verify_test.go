package pki_test

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// The registration code in testdata/certs/verification*.pem (see gen.sh).
const fixtureCode = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func fixture(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	return pkitest.ReadCertificate(t, "testdata/certs/"+name+".pem")
}

// rawCertificate signs template with signer as parent, bypassing the checks
// of pki.Authority, to build odd certificates.
func rawCertificate(t testing.TB, template, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	if template.SerialNumber == nil {
		template.SerialNumber = big.NewInt(1)
	}
	if template.NotAfter.IsZero() {
		template.NotBefore, template.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckCA(t *testing.T) {
	root := pkitest.NewRoot(t, "CA Root")
	inter := pkitest.NewIntermediate(t, root, "CA Intermediate")
	leaf, _ := pkitest.NewClient(t, root, pkix.Name{CommonName: "CA Leaf"})
	key := pkitest.NewKey(t, pki.KeyECP256)
	noBC := &x509.Certificate{Subject: pkix.Name{CommonName: "No Basic Constraints"}}
	noBC = rawCertificate(t, noBC, noBC, key.Public(), key)

	tests := []struct {
		name    string
		cert    *x509.Certificate
		wantErr string // "" means a CA
	}{
		{"go root", root.Certificate, ""},
		{"go intermediate", inter.Certificate, ""},
		{"seed 000 root (openssl -extensions v3_ca)", fixture(t, "seed-root"), ""},
		{"seed 003 root (openssl req -x509)", fixture(t, "ec-root"), ""},
		{"self-signed v1 root (openssl x509 -req without -extfile)", fixture(t, "v1-root"), ""},
		{"v1 certificate that is not self-signed", fixture(t, "v1-device"), "version 1 certificate that is not self-signed"},
		{"leaf with CA:FALSE", leaf, "basicConstraints CA:FALSE"},
		{"openssl CA:FALSE", fixture(t, "not-ca"), "basicConstraints CA:FALSE"},
		{"v3 without basicConstraints", noBC, "no basicConstraints extension"},
		{"keyUsage without keyCertSign", fixture(t, "ca-without-certsign"), "keyUsage extension without keyCertSign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pki.CheckCA(tt.cert)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckCA: %v", err)
				}
				return
			}
			if !errors.Is(err, pki.ErrNotCA) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckCA error = %v, want ErrNotCA containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSignedBy(t *testing.T) {
	root := pkitest.NewRoot(t, "Signer Root")
	twin := pkitest.NewRoot(t, "Signer Root") // same subject, different key
	other := pkitest.NewRoot(t, "Other Root")
	inter := pkitest.NewIntermediate(t, root, "Signer Intermediate")
	leaf, leafKey := pkitest.NewClient(t, root, pkix.Name{CommonName: "Signed Device"})
	interLeaf, _ := pkitest.NewClient(t, inter, pkix.Name{CommonName: "Intermediate Device"})
	// Signed by a certificate that may not sign (CA:FALSE).
	byLeaf := rawCertificate(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Signed by a leaf"}}, leaf, leafKey.Public(), leafKey)

	tests := []struct {
		name    string
		cert    *x509.Certificate
		ca      *x509.Certificate
		wantErr error // nil means signed
		detail  string
	}{
		{"root signed leaf", leaf, root.Certificate, nil, ""},
		{"root signed intermediate", inter.Certificate, root.Certificate, nil, ""},
		{"intermediate signed leaf", interLeaf, inter.Certificate, nil, ""},
		{"root itself", root.Certificate, root.Certificate, nil, ""},
		{"seed root signed verification", fixture(t, "verification"), fixture(t, "seed-root"), nil, ""},
		{"v1 root signed v1 device", fixture(t, "v1-device"), fixture(t, "v1-root"), nil, ""},
		{"root did not sign the intermediate's leaf", interLeaf, root.Certificate, pki.ErrNotSignedByCA, "is not the CA's subject"},
		{"other name", leaf, other.Certificate, pki.ErrNotSignedByCA, "is not the CA's subject"},
		{"same name, other key", leaf, twin.Certificate, pki.ErrNotSignedByCA, "does not verify"},
		{"signer is not a CA", byLeaf, leaf, pki.ErrNotCA, "may not sign certificates"},
		{"SHA-1 signature", fixture(t, "verification-sha1"), fixture(t, "seed-root"), pki.ErrUnsupportedSignature, "signed with SHA1-RSA, which Go does not verify; reissue it with SHA-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pki.CheckSignedBy(tt.cert, tt.ca)
			if got, want := pki.SignedBy(tt.cert, tt.ca), tt.wantErr == nil; got != want {
				t.Errorf("SignedBy = %t, want %t", got, want)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckSignedBy: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("CheckSignedBy error = %v, want %v containing %q", err, tt.wantErr, tt.detail)
			}
			if !strings.HasPrefix(err.Error(), "check signature: ") {
				t.Errorf("error %q lacks the operation prefix", err)
			}
		})
	}
}

func TestCheckVerificationCertificate(t *testing.T) {
	seedRoot, verification, sha1 := fixture(t, "seed-root"), fixture(t, "verification"), fixture(t, "verification-sha1")
	subject := pkix.Name{Country: []string{"IN"}, Organization: []string{"AMZ"}}
	ca := newRootWithSubject(t, subject)
	twin := newRootWithSubject(t, subject)
	now := time.Now()
	code := strings.Repeat("5a", 32)
	issue := func(a *pki.Authority, subject pkix.Name) *x509.Certificate {
		t.Helper()
		key := pkitest.NewKey(t, pki.KeyECP256)
		c := &x509.Certificate{Subject: subject}
		return rawCertificate(t, c, a.Certificate, key.Public(), a.Key)
	}
	byCA, err := ca.IssueVerification(pkitest.NewKey(t, pki.KeyECP256).Public(), code, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	byTwin, err := twin.IssueVerification(pkitest.NewKey(t, pki.KeyECP256).Public(), code, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	twoCNs := issue(ca, pkix.Name{CommonName: "first", ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: code}}})
	noCN := issue(ca, pkix.Name{Organization: []string{"No CN"}})
	paddedCN := issue(ca, pkix.Name{CommonName: " " + code + " "})

	tests := []struct {
		name    string
		ca      *x509.Certificate
		cert    *x509.Certificate
		code    string
		wantErr error
		detail  string
	}{
		{"openssl seed flow", seedRoot, verification, fixtureCode, nil, ""},
		{"go flow", ca.Certificate, byCA, code, nil, ""},
		{"code in upper case", seedRoot, verification, strings.ToUpper(fixtureCode), nil, ""},
		{"code with blanks", seedRoot, verification, " " + fixtureCode + "\n", nil, ""},
		{"common name with blanks", ca.Certificate, paddedCN, code, nil, ""},
		{"code in the second CN", ca.Certificate, twoCNs, code, nil, ""},
		{"wrong code", seedRoot, verification, code, pki.ErrRegistrationCodeMismatch, `its common name is "` + fixtureCode + `"`},
		{"code prefix", seedRoot, verification, fixtureCode[:60], pki.ErrRegistrationCodeMismatch, "its common name is"},
		{"empty code", seedRoot, verification, "", pki.ErrRegistrationCodeMismatch, "registration code is empty"},
		{"no common name", ca.Certificate, noCN, code, pki.ErrRegistrationCodeMismatch, "it has no common name"},
		{"signed by another CA with the same subject", ca.Certificate, byTwin, code, pki.ErrNotSignedByCA, "does not verify"},
		{"signed by an unrelated CA", seedRoot, byCA, code, pki.ErrNotSignedByCA, "is not the CA's subject"},
		{"code mismatch reported before signature", seedRoot, byCA, "ff", pki.ErrRegistrationCodeMismatch, ""},
		{"SHA-1 signed", seedRoot, sha1, fixtureCode, pki.ErrUnsupportedSignature, "SHA1-RSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pki.CheckVerificationCertificate(tt.ca, tt.cert, tt.code)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckVerificationCertificate: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("CheckVerificationCertificate error = %v, want %v containing %q", err, tt.wantErr, tt.detail)
			}
			if !strings.HasPrefix(err.Error(), "check verification certificate: ") {
				t.Errorf("error %q lacks the operation prefix", err)
			}
		})
	}
}

func newRootWithSubject(t testing.TB, subject pkix.Name) *pki.Authority {
	t.Helper()
	now := time.Now()
	a, err := pki.NewRootCA(subject, pkitest.NewKey(t, pki.KeyECP256), now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCheckValidAt(t *testing.T) {
	c := fixture(t, "verification")
	tests := []struct {
		name    string
		now     time.Time
		wantErr error
	}{
		{"at notBefore", c.NotBefore, nil},
		{"between", c.NotBefore.Add(24 * time.Hour), nil},
		{"at notAfter", c.NotAfter, nil},
		{"before", c.NotBefore.Add(-time.Second), pki.ErrNotYetValid},
		{"after", c.NotAfter.Add(time.Second), pki.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pki.CheckValidAt(c, tt.now)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckValidAt = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
