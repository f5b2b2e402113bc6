package pkitest

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

// Validity of what this package issues: from an hour ago for a year, so a
// test never meets an expiry.
const validity = 365 * 24 * time.Hour

// NewRoot makes an ECDSA P-256 root CA with subject CN=cn, valid now.
func NewRoot(t testing.TB, cn string) *pki.Authority {
	t.Helper()
	key := NewKey(t, pki.DefaultKeyType)
	now := time.Now()
	a, err := pki.NewRootCA(pkix.Name{CommonName: cn}, key, now.Add(-time.Hour), now.Add(validity))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// NewIntermediate makes an ECDSA P-256 CA with subject CN=cn issued by
// parent, which may sign end-entity certificates only.
func NewIntermediate(t testing.TB, parent *pki.Authority, cn string) *pki.Authority {
	t.Helper()
	key := NewKey(t, pki.DefaultKeyType)
	now := time.Now()
	c, err := parent.IssueIntermediate(key.Public(), pkix.Name{CommonName: cn}, 0, now.Add(-time.Hour), now.Add(validity))
	if err != nil {
		t.Fatal(err)
	}
	return &pki.Authority{Certificate: c, Key: key}
}

// NewClient issues an ECDSA P-256 client certificate with the given subject.
func NewClient(t testing.TB, ca *pki.Authority, subject pkix.Name) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := NewKey(t, pki.DefaultKeyType)
	now := time.Now()
	c, err := ca.IssueClient(key.Public(), subject, now.Add(-time.Hour), now.Add(validity))
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// NewKey generates a key of type kt.
func NewKey(t testing.TB, kt pki.KeyType) crypto.Signer {
	t.Helper()
	key, err := pki.GenerateKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// WriteFiles writes a certificate chain and its key as PEM files name.pem and
// name.key in dir, the way devices and mosquitto_pub use them, and returns
// their paths.
func WriteFiles(t testing.TB, dir, name string, key crypto.Signer, chain ...*x509.Certificate) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, []byte(pki.EncodeCertificatesPEM(chain)), 0o644); err != nil {
		t.Fatal(err)
	}
	if key != nil {
		if err := pki.WritePrivateKeyFile(keyPath, key); err != nil {
			t.Fatal(err)
		}
	}
	return certPath, keyPath
}
