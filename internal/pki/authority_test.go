package pki_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestRoot(t testing.TB, kt pki.KeyType) *pki.Authority {
	t.Helper()
	a, err := pki.NewRootCA(pkix.Name{CommonName: "Test Root " + string(kt), Organization: []string{"iotcore"}},
		pkitest.NewKey(t, kt), t0, t0.Add(pki.RootValidity))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNewRootCA(t *testing.T) {
	for _, kt := range []pki.KeyType{pki.KeyECP256, pki.KeyECP384, pki.KeyRSA2048} {
		t.Run(string(kt), func(t *testing.T) {
			c := newTestRoot(t, kt).Certificate
			if c.Version != 3 || !c.BasicConstraintsValid || !c.IsCA || c.MaxPathLen != -1 {
				t.Errorf("version %d, basicConstraints valid %t CA %t maxPathLen %d; want v3 CA:TRUE without a path length",
					c.Version, c.BasicConstraintsValid, c.IsCA, c.MaxPathLen)
			}
			if want := x509.KeyUsageCertSign | x509.KeyUsageCRLSign; c.KeyUsage != want {
				t.Errorf("keyUsage = %b, want %b", c.KeyUsage, want)
			}
			if len(c.SubjectKeyId) != 20 {
				t.Errorf("subjectKeyId has %d bytes, want 20", len(c.SubjectKeyId))
			}
			if !c.NotBefore.Equal(t0) || !c.NotAfter.Equal(t0.Add(pki.RootValidity)) {
				t.Errorf("validity %s to %s, want %s to %s", c.NotBefore, c.NotAfter, t0, t0.Add(pki.RootValidity))
			}
			if err := pki.CheckCA(c); err != nil {
				t.Error(err)
			}
			if !pki.SignedBy(c, c) {
				t.Error("root is not self-signed")
			}
		})
	}
	tests := []struct {
		name      string
		subject   pkix.Name
		notBefore time.Time
		notAfter  time.Time
		wantErr   string
	}{
		{"empty subject", pkix.Name{}, t0, t0.Add(time.Hour), "subject is empty"},
		{"notAfter before notBefore", pkix.Name{CommonName: "x"}, t0, t0.Add(-time.Hour), "is not after notBefore"},
		{"zero length", pkix.Name{CommonName: "x"}, t0, t0, "is not after notBefore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pki.NewRootCA(tt.subject, pkitest.NewKey(t, pki.KeyECP256), tt.notBefore, tt.notAfter)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewRootCA error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	root := newTestRoot(t, pki.KeyECP256)
	rsaRoot := newTestRoot(t, pki.KeyRSA2048)
	ecKey, rsaKey := pkitest.NewKey(t, pki.KeyECP256), pkitest.NewKey(t, pki.KeyRSA2048)
	code := strings.Repeat("0f", 32)
	end := t0.Add(24 * time.Hour)

	type want struct {
		subject  string
		isCA     bool
		maxPath  int
		keyUsage x509.KeyUsage
		eku      []x509.ExtKeyUsage
		dns      []string
		ips      []string
		sigAlg   x509.SignatureAlgorithm
		notAfter time.Time
	}
	tests := []struct {
		name  string
		ca    *pki.Authority
		issue func(a *pki.Authority) (*x509.Certificate, error)
		want  want
	}{
		{"client EC", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueClient(ecKey.Public(), pkix.Name{CommonName: "AWS IoT Certificate"}, t0, end)
		}, want{subject: "CN=AWS IoT Certificate", keyUsage: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, maxPath: -1, sigAlg: x509.ECDSAWithSHA256, notAfter: end}},
		{"client RSA from RSA CA", rsaRoot, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueClient(rsaKey.Public(), pkix.Name{CommonName: "DemoThing", Country: []string{"IN"}}, t0, end)
		}, want{subject: "CN=DemoThing,C=IN", keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, maxPath: -1, sigAlg: x509.SHA256WithRSA, notAfter: end}},
		{"client outliving its CA is capped", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueClient(ecKey.Public(), pkix.Name{CommonName: "long"}, t0, time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC))
		}, want{subject: "CN=long", keyUsage: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, maxPath: -1, sigAlg: x509.ECDSAWithSHA256, notAfter: root.Certificate.NotAfter}},
		{"server", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueServer(ecKey.Public(), []string{"LocalHost.", "127.0.0.1", "::1", "*.iot.example.com", "localhost"}, t0, end)
		}, want{subject: "CN=localhost", keyUsage: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, maxPath: -1, sigAlg: x509.ECDSAWithSHA256, notAfter: end,
			dns: []string{"*.iot.example.com", "localhost"}, ips: []string{"127.0.0.1", "::1"}}},
		{"server named by IP", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueServer(ecKey.Public(), []string{"[::1]"}, t0, end)
		}, want{subject: "CN=::1", keyUsage: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, maxPath: -1, sigAlg: x509.ECDSAWithSHA256, notAfter: end, ips: []string{"::1"}}},
		{"intermediate for leaves only", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueIntermediate(ecKey.Public(), pkix.Name{CommonName: "Issuing CA"}, 0, t0, end)
		}, want{subject: "CN=Issuing CA", isCA: true, keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, maxPath: 0, sigAlg: x509.ECDSAWithSHA256, notAfter: end}},
		{"intermediate with no limit", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueIntermediate(ecKey.Public(), pkix.Name{CommonName: "Policy CA"}, -1, t0, end)
		}, want{subject: "CN=Policy CA", isCA: true, keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, maxPath: -1, sigAlg: x509.ECDSAWithSHA256, notAfter: end}},
		{"intermediate with path length 2", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueIntermediate(ecKey.Public(), pkix.Name{CommonName: "Policy CA"}, 2, t0, end)
		}, want{subject: "CN=Policy CA", isCA: true, keyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, maxPath: 2, sigAlg: x509.ECDSAWithSHA256, notAfter: end}},
		{"verification", root, func(a *pki.Authority) (*x509.Certificate, error) {
			return a.IssueVerification(rsaKey.Public(), code, t0, end)
		}, want{subject: "CN=" + code, keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, maxPath: -1, sigAlg: x509.ECDSAWithSHA256, notAfter: end}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.issue(tt.ca)
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if got := c.Subject.String(); got != w.subject {
				t.Errorf("subject = %q, want %q", got, w.subject)
			}
			if c.Version != 3 || !c.BasicConstraintsValid || c.IsCA != w.isCA || c.MaxPathLen != w.maxPath {
				t.Errorf("version %d basicConstraints %t CA %t maxPathLen %d, want v3 basicConstraints CA %t maxPathLen %d",
					c.Version, c.BasicConstraintsValid, c.IsCA, c.MaxPathLen, w.isCA, w.maxPath)
			}
			if c.KeyUsage != w.keyUsage {
				t.Errorf("keyUsage = %b, want %b", c.KeyUsage, w.keyUsage)
			}
			if !slices.Equal(c.ExtKeyUsage, w.eku) {
				t.Errorf("extKeyUsage = %v, want %v", c.ExtKeyUsage, w.eku)
			}
			if !slices.Equal(c.DNSNames, w.dns) {
				t.Errorf("DNS names = %q, want %q", c.DNSNames, w.dns)
			}
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, w.ips) {
				t.Errorf("IP addresses = %q, want %q", ips, w.ips)
			}
			if c.SignatureAlgorithm != w.sigAlg {
				t.Errorf("signature algorithm = %v, want %v", c.SignatureAlgorithm, w.sigAlg)
			}
			if !c.NotBefore.Equal(t0) || !c.NotAfter.Equal(w.notAfter) {
				t.Errorf("validity %s to %s, want %s to %s", c.NotBefore, c.NotAfter, t0, w.notAfter)
			}
			if !bytes.Equal(c.AuthorityKeyId, tt.ca.Certificate.SubjectKeyId) || len(c.SubjectKeyId) != 20 {
				t.Errorf("authorityKeyId %x subjectKeyId %x; want the CA's %x and 20 bytes", c.AuthorityKeyId, c.SubjectKeyId, tt.ca.Certificate.SubjectKeyId)
			}
			if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 {
				t.Errorf("serial %x: want positive, at most 128 bits", c.SerialNumber)
			}
			if err := pki.CheckSignedBy(c, tt.ca.Certificate); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestIssueErrors(t *testing.T) {
	root := newTestRoot(t, pki.KeyECP256)
	key := pkitest.NewKey(t, pki.KeyECP256)
	weak, err := pki.ParsePrivateKeyPEM(readFile(t, "testdata/keys/rsa-1024-pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(time.Hour)
	tests := []struct {
		name    string
		issue   func() (*x509.Certificate, error)
		wantErr string
	}{
		{"client with a weak key", func() (*x509.Certificate, error) {
			return root.IssueClient(weak.Public(), pkix.Name{CommonName: "x"}, t0, end)
		}, "RSA key of 1024 bits"},
		{"server without hosts", func() (*x509.Certificate, error) { return root.IssueServer(key.Public(), nil, t0, end) }, "no host names"},
		{"server with a port", func() (*x509.Certificate, error) {
			return root.IssueServer(key.Public(), []string{"localhost:8883"}, t0, end)
		}, `"localhost:8883"`},
		{"server with a URL", func() (*x509.Certificate, error) {
			return root.IssueServer(key.Public(), []string{"https://iot.example.com"}, t0, end)
		}, "not a DNS name"},
		{"intermediate without subject", func() (*x509.Certificate, error) {
			return root.IssueIntermediate(key.Public(), pkix.Name{}, 0, t0, end)
		}, "subject is empty"},
		{"verification without code", func() (*x509.Certificate, error) { return root.IssueVerification(key.Public(), "", t0, end) }, "registration code is empty"},
		{"starts after the CA expires", func() (*x509.Certificate, error) {
			return root.IssueClient(key.Public(), pkix.Name{CommonName: "x"}, root.Certificate.NotAfter.Add(time.Hour), root.Certificate.NotAfter.Add(2*time.Hour))
		}, "is not after notBefore"},
		{"authority without key", func() (*x509.Certificate, error) {
			return (&pki.Authority{Certificate: root.Certificate}).IssueClient(key.Public(), pkix.Name{CommonName: "x"}, t0, end)
		}, "no certificate or no key"},
		{"nil authority", func() (*x509.Certificate, error) {
			var a *pki.Authority
			return a.IssueClient(key.Public(), pkix.Name{CommonName: "x"}, t0, end)
		}, "no certificate or no key"},
		{"authority with the wrong key", func() (*x509.Certificate, error) {
			return (&pki.Authority{Certificate: root.Certificate, Key: key}).IssueClient(key.Public(), pkix.Name{CommonName: "x"}, t0, end)
		}, "doesn't match parent's PublicKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.issue()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSerialNumbersDiffer(t *testing.T) {
	root := newTestRoot(t, pki.KeyECP256)
	key := pkitest.NewKey(t, pki.KeyECP256)
	seen := map[string]bool{}
	for range 64 {
		c, err := root.IssueClient(key.Public(), pkix.Name{CommonName: "same"}, t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		s := c.SerialNumber.String()
		if seen[s] {
			t.Fatalf("serial %s issued twice", s)
		}
		seen[s] = true
	}
}

func TestNewAuthority(t *testing.T) {
	root := newTestRoot(t, pki.KeyECP256)
	leaf, leafKey := pkitest.NewClient(t, root, pkix.Name{CommonName: "leaf"})
	tests := []struct {
		name    string
		cert    *x509.Certificate
		key     crypto.Signer
		wantErr error
	}{
		{"pair", root.Certificate, root.Key, nil},
		{"wrong key", root.Certificate, leafKey, pki.ErrKeyMismatch},
		{"not a CA", leaf, leafKey, pki.ErrNotCA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := pki.NewAuthority(tt.cert, tt.key)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (a != nil) {
				t.Fatalf("NewAuthority = %v, %v; want error %v", a, err, tt.wantErr)
			}
		})
	}
	certPEM := pki.EncodeCertificatePEM(root.Certificate)
	keyPEM, _ := pki.MarshalPrivateKeyPEM(root.Key)
	if _, err := pki.ParseAuthorityPEM(certPEM, keyPEM); err != nil {
		t.Errorf("ParseAuthorityPEM: %v", err)
	}
	if _, err := pki.ParseAuthorityPEM(keyPEM, certPEM); err == nil {
		t.Error("ParseAuthorityPEM with swapped arguments succeeded")
	}
}

// TestVerifyChain checks what Go's own path verifier, the one crypto/tls
// uses, makes of issued chains.
func TestVerifyChain(t *testing.T) {
	now := time.Now()
	root := pkitest.NewRoot(t, "Chain Root")
	inter := pkitest.NewIntermediate(t, root, "Chain Issuing CA")
	client, _ := pkitest.NewClient(t, inter, pkix.Name{CommonName: "Chain Device"})
	server, err := root.IssueServer(pkitest.NewKey(t, pki.KeyECP256).Public(), []string{"iot.example.com", "10.0.0.1"}, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A CA below the leaves-only intermediate breaks its path length.
	belowKey := pkitest.NewKey(t, pki.KeyECP256)
	below, err := inter.IssueIntermediate(belowKey.Public(), pkix.Name{CommonName: "Too Deep"}, 0, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	deep, _ := pkitest.NewClient(t, &pki.Authority{Certificate: below, Key: belowKey}, pkix.Name{CommonName: "Deep Device"})

	roots := x509.NewCertPool()
	roots.AddCert(root.Certificate)
	inters := x509.NewCertPool()
	inters.AddCert(inter.Certificate)
	withBelow := x509.NewCertPool()
	withBelow.AddCert(inter.Certificate)
	withBelow.AddCert(below)
	tests := []struct {
		name    string
		leaf    *x509.Certificate
		opts    x509.VerifyOptions
		wantErr bool
	}{
		{"client through intermediate", client, x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, false},
		{"client without intermediate", client, x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, true},
		{"client used as server", client, x509.VerifyOptions{Roots: roots, Intermediates: inters}, true},
		{"path length exceeded", deep, x509.VerifyOptions{Roots: roots, Intermediates: withBelow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, true},
		{"server by name", server, x509.VerifyOptions{Roots: roots, DNSName: "iot.example.com"}, false},
		{"server by IP", server, x509.VerifyOptions{Roots: roots, DNSName: "10.0.0.1"}, false},
		{"server, other name", server, x509.VerifyOptions{Roots: roots, DNSName: "evil.example.com"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.leaf.Verify(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Verify = %v, want error %t", err, tt.wantErr)
			}
		})
	}
}
