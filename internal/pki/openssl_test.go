package pki_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// These tests run the openssl program. They skip when it is missing, or fail
// when CI is true (see pkitest.OpenSSL).

func randomCode(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// opensslFingerprint returns `openssl x509 -noout -fingerprint -sha256` of a
// certificate file, colons removed and lower-cased: the AWS certificate ID
// according to the community answer cited in the reference.
func opensslFingerprint(t *testing.T, path string) string {
	t.Helper()
	out := pkitest.RunOpenSSL(t, filepath.Dir(path), "x509", "-noout", "-fingerprint", "-sha256", "-in", path)
	_, fp, ok := strings.Cut(strings.TrimSpace(out), "=")
	if !ok {
		t.Fatalf("unexpected fingerprint output %q", out)
	}
	return strings.ToLower(strings.ReplaceAll(fp, ":", ""))
}

// TestOpenSSLSeedFlow runs the commands of seed 000 (CA, verification
// certificate, device certificate) and checks that iotcore's rules accept
// what they make and refuse the near misses.
func TestOpenSSLSeedFlow(t *testing.T) {
	pkitest.OpenSSL(t)
	code := randomCode(t)
	ca := pkitest.NewSeedCA(t, t.TempDir(), "deviceRootCA", "/C=IN/O=AMZ")
	verification := ca.Sign(t, "verificationCert", "/CN="+code, "sha256")
	sha1 := ca.Sign(t, "verificationCertSHA1", "/CN="+code, "sha1")
	device := ca.Sign(t, "deviceCert", "/C=IN/CN=DemoThing", "sha256")
	// A second CA made the same way with the same subject, and its own key.
	twin := pkitest.NewSeedCA(t, t.TempDir(), "deviceRootCA", "/C=IN/O=AMZ")
	twinVerification := twin.Sign(t, "verificationCert", "/CN="+code, "sha256")
	if string(twin.Cert.RawSubject) != string(ca.Cert.RawSubject) {
		t.Fatal("the two CAs' subjects differ; the same-name test would test nothing")
	}

	t.Run("CA", func(t *testing.T) {
		if err := pki.CheckCA(ca.Cert); err != nil {
			t.Fatal(err)
		}
		if ca.Cert.Version != 3 || !ca.Cert.IsCA {
			t.Errorf("version %d CA %t; want a v3 CA", ca.Cert.Version, ca.Cert.IsCA)
		}
	})

	tests := []struct {
		name    string
		ca      *x509.Certificate
		cert    *x509.Certificate
		code    string
		wantErr error
	}{
		{"verification certificate", ca.Cert, verification.Cert, code, nil},
		{"registration code mismatch", ca.Cert, verification.Cert, randomCode(t), pki.ErrRegistrationCodeMismatch},
		{"signed by another CA with the same subject", ca.Cert, twinVerification.Cert, code, pki.ErrNotSignedByCA},
		{"the other CA's own verification certificate", twin.Cert, twinVerification.Cert, code, nil},
		{"signed with SHA-1", ca.Cert, sha1.Cert, code, pki.ErrUnsupportedSignature},
		{"a device certificate is not a verification certificate", ca.Cert, device.Cert, code, pki.ErrRegistrationCodeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pki.CheckVerificationCertificate(tt.ca, tt.cert, tt.code)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckVerificationCertificate = %v, want %v", err, tt.wantErr)
			}
		})
	}

	signedBy := []struct {
		name string
		cert *x509.Certificate
		ca   *x509.Certificate
		want bool
	}{
		{"device by its CA", device.Cert, ca.Cert, true},
		{"device by the same-name CA", device.Cert, twin.Cert, false},
		{"verification by its CA", verification.Cert, ca.Cert, true},
		{"CA by itself", ca.Cert, ca.Cert, true},
		{"SHA-1 certificate", sha1.Cert, ca.Cert, false},
	}
	for _, tt := range signedBy {
		t.Run("SignedBy/"+tt.name, func(t *testing.T) {
			if got := pki.SignedBy(tt.cert, tt.ca); got != tt.want {
				t.Errorf("SignedBy = %t, want %t", got, tt.want)
			}
		})
	}

	t.Run("device chain as mosquitto_pub sends it", func(t *testing.T) {
		// cat deviceCert.crt deviceRootCA.pem > deviceCertAndCACert.crt
		chain, err := pki.ParseCertificateChainPEM(readFile(t, device.CertPath) + readFile(t, ca.CertPath))
		if err != nil {
			t.Fatal(err)
		}
		if len(chain) != 2 || !pki.SignedBy(chain[0], chain[1]) {
			t.Fatalf("chain of %d, first signed by second: %t", len(chain), len(chain) == 2 && pki.SignedBy(chain[0], chain[1]))
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca.Cert)
		if _, err := device.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("Go rejects the openssl device certificate (v1, no extensions): %v", err)
		}
	})

	for _, f := range []pkitest.Issued{{CertPath: ca.CertPath, Cert: ca.Cert}, verification, device, sha1} {
		t.Run("CertificateID/"+filepath.Base(f.CertPath), func(t *testing.T) {
			if got, want := pki.CertificateID(f.Cert.Raw), opensslFingerprint(t, f.CertPath); got != want {
				t.Errorf("CertificateID = %s, openssl fingerprint = %s", got, want)
			}
		})
	}

	t.Run("openssl CA as an Authority", func(t *testing.T) {
		// What `iotcore pki` does with a CA the user made with openssl.
		a, err := pki.ParseAuthorityPEM(readFile(t, ca.CertPath), readFile(t, ca.KeyPath))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		key := pkitest.NewKey(t, pki.KeyECP256)
		v, err := a.IssueVerification(key.Public(), code, now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := pki.CheckVerificationCertificate(ca.Cert, v, code); err != nil {
			t.Error(err)
		}
		d, err := a.IssueClient(key.Public(), pkix.Name{CommonName: "DemoThing", Country: []string{"IN"}}, now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(ca.Dir, "go-device.pem")
		if err := os.WriteFile(path, []byte(pki.EncodeCertificatePEM(d)), 0o644); err != nil {
			t.Fatal(err)
		}
		out := pkitest.RunOpenSSL(t, ca.Dir, "verify", "-CAfile", ca.CertPath, "-purpose", "sslclient", path)
		if !strings.Contains(out, ": OK") {
			t.Errorf("openssl verify: %s", out)
		}
	})
}

// TestOpenSSLVerifiesIssued checks that `openssl verify` accepts what the
// Authority issues, strictly (-x509_strict) and for the right purpose.
func TestOpenSSLVerifiesIssued(t *testing.T) {
	pkitest.OpenSSL(t)
	dir := t.TempDir()
	now := time.Now()
	caPath, caKeyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	root, _, err := pki.LoadOrCreateAuthority(caPath, caKeyPath, caSubject, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = pki.LoadOrCreateServerCertificate(root, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"),
		[]string{"localhost", "127.0.0.1", "::1"}, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	rsaRoot, err := pki.NewRootCA(pkix.Name{CommonName: "RSA Root"}, pkitest.NewKey(t, pki.KeyRSA2048), now.Add(-time.Hour), now.Add(pki.RootValidity))
	if err != nil {
		t.Fatal(err)
	}
	inter := pkitest.NewIntermediate(t, root, "Issuing CA")
	other := pkitest.NewRoot(t, "Other Root")
	write := func(name string, certs ...*x509.Certificate) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(pki.EncodeCertificatesPEM(certs)), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	issueClient := func(a *pki.Authority, kt pki.KeyType) *x509.Certificate {
		c, err := a.IssueClient(pkitest.NewKey(t, kt).Public(), pkix.Name{CommonName: "dev-" + string(kt)}, now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	code := randomCode(t)
	verification, err := root.IssueVerification(pkitest.NewKey(t, pki.KeyRSA2048).Public(), code, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write("inter.pem", inter.Certificate)
	write("rsa-root.pem", rsaRoot.Certificate)
	write("other.pem", other.Certificate)

	tests := []struct {
		name    string
		leaf    string
		args    []string
		wantErr bool
	}{
		{"root", caPath, []string{"-CAfile", caPath}, false},
		{"server", filepath.Join(dir, "server.pem"), []string{"-CAfile", caPath, "-purpose", "sslserver", "-verify_hostname", "localhost"}, false},
		{"server by IPv4", filepath.Join(dir, "server.pem"), []string{"-CAfile", caPath, "-purpose", "sslserver", "-verify_ip", "127.0.0.1"}, false},
		{"server by IPv6", filepath.Join(dir, "server.pem"), []string{"-CAfile", caPath, "-purpose", "sslserver", "-verify_ip", "::1"}, false},
		{"server, other host", filepath.Join(dir, "server.pem"), []string{"-CAfile", caPath, "-verify_hostname", "evil.example.com"}, true},
		{"client EC", write("client-ec.pem", issueClient(root, pki.KeyECP256)), []string{"-CAfile", caPath, "-purpose", "sslclient"}, false},
		{"client EC P-384", write("client-p384.pem", issueClient(root, pki.KeyECP384)), []string{"-CAfile", caPath, "-purpose", "sslclient"}, false},
		{"client RSA under RSA root", write("client-rsa.pem", issueClient(rsaRoot, pki.KeyRSA2048)), []string{"-CAfile", filepath.Join(dir, "rsa-root.pem"), "-purpose", "sslclient"}, false},
		{"client is not a server", write("client-srv.pem", issueClient(root, pki.KeyECP256)), []string{"-CAfile", caPath, "-purpose", "sslserver"}, true},
		{"client through intermediate", write("client-inter.pem", issueClient(inter, pki.KeyECP256)), []string{"-CAfile", caPath, "-untrusted", filepath.Join(dir, "inter.pem"), "-purpose", "sslclient"}, false},
		{"client, intermediate missing", write("client-inter2.pem", issueClient(inter, pki.KeyECP256)), []string{"-CAfile", caPath}, true},
		{"verification certificate", write("verification.pem", verification), []string{"-CAfile", caPath}, false},
		{"client of another root", write("client-other.pem", issueClient(root, pki.KeyECP256)), []string{"-CAfile", filepath.Join(dir, "other.pem")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"verify", "-x509_strict"}, tt.args...)
			out, err := pkitest.TryOpenSSL(t, dir, append(args, tt.leaf)...)
			ok := err == nil && strings.Contains(out, tt.leaf+": OK")
			if ok == tt.wantErr {
				t.Fatalf("openssl %s %s: %v\n%s", strings.Join(args, " "), filepath.Base(tt.leaf), err, out)
			}
		})
	}
}

// TestOpenSSLKeys checks that openssl reads the keys iotcore writes and that
// iotcore reads the keys openssl writes.
func TestOpenSSLKeys(t *testing.T) {
	pkitest.OpenSSL(t)
	dir := t.TempDir()
	for _, kt := range []pki.KeyType{pki.KeyECP256, pki.KeyECP384, pki.KeyRSA2048} {
		t.Run("openssl reads "+string(kt), func(t *testing.T) {
			key := pkitest.NewKey(t, kt)
			path := filepath.Join(dir, string(kt)+".key")
			if err := pki.WritePrivateKeyFile(path, key); err != nil {
				t.Fatal(err)
			}
			got := pkitest.RunOpenSSL(t, dir, "pkey", "-in", path, "-pubout")
			want, err := pki.MarshalPublicKeyPEM(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("openssl's public key:\n%s\nours:\n%s", got, want)
			}
			pkitest.RunOpenSSL(t, dir, "pkey", "-in", path, "-noout", "-check")
		})
	}
	t.Run("openssl reads PKCS#1", func(t *testing.T) {
		key, err := pki.ParsePrivateKeyPEM(readFile(t, "testdata/keys/rsa-pkcs1.pem"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "pkcs1.key")
		if err := os.WriteFile(path, []byte(pki.MarshalRSAPrivateKeyPEM(key.(*rsa.PrivateKey))), 0o600); err != nil {
			t.Fatal(err)
		}
		pkitest.RunOpenSSL(t, dir, "rsa", "-in", path, "-noout", "-check")
	})

	gens := []struct {
		name string
		args []string
		want string
	}{
		{"genrsa", []string{"genrsa", "-out", "k", "2048"}, "RSA 2048"},
		{"genrsa -traditional", []string{"genrsa", "-traditional", "-out", "k", "3072"}, "RSA 3072"},
		{"ecparam -genkey", []string{"ecparam", "-name", "prime256v1", "-genkey", "-out", "k"}, "EC P-256"},
		{"ecparam -genkey -noout", []string{"ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "k"}, "EC P-384"},
		{"genpkey EC", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521", "-out", "k"}, "EC P-521"},
	}
	for _, g := range gens {
		t.Run("reads openssl "+g.name, func(t *testing.T) {
			sub := t.TempDir()
			pkitest.RunOpenSSL(t, sub, g.args...)
			key, err := pki.ParsePrivateKeyPEM(readFile(t, filepath.Join(sub, "k")))
			if err != nil {
				t.Fatal(err)
			}
			if got := keyName(key.Public()); got != g.want {
				t.Errorf("key = %s, want %s", got, g.want)
			}
		})
	}
}

// TestOpenSSLCSR checks CSRs both ways: openssl's are parsed and their keys
// judged as CreateCertificateFromCsr does; ours pass `openssl req -verify`.
func TestOpenSSLCSR(t *testing.T) {
	pkitest.OpenSSL(t)
	tests := []struct {
		name    string
		newkey  []string
		wantErr error
	}{
		{"RSA 2048", []string{"-newkey", "rsa:2048"}, nil},
		{"RSA 1024", []string{"-newkey", "rsa:1024"}, pki.ErrUnsupportedKey},
		{"EC P-256", []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"}, nil},
		{"EC P-521", []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"}, nil},
		{"Ed25519", []string{"-newkey", "ed25519"}, pki.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"req", "-new", "-nodes", "-keyout", "k", "-out", "csr", "-subj", "/C=IN/CN=DemoThing"}, tt.newkey...)
			pkitest.RunOpenSSL(t, dir, args...)
			csr, err := pki.ParseCSRPEM(readFile(t, filepath.Join(dir, "csr")))
			if err != nil {
				t.Fatal(err)
			}
			if csr.Subject.CommonName != "DemoThing" {
				t.Errorf("CN = %q", csr.Subject.CommonName)
			}
			if err := pki.CheckCSRKey(csr); !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckCSRKey = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("openssl verifies ours", func(t *testing.T) {
		dir := t.TempDir()
		csr, err := pki.CreateCSR(pkitest.NewKey(t, pki.KeyECP256), pkix.Name{CommonName: "DemoThing", Country: []string{"IN"}})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "csr.pem")
		if err := os.WriteFile(path, []byte(pki.EncodeCSRPEM(csr)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := pkitest.TryOpenSSL(t, dir, "req", "-in", path, "-noout", "-verify")
		if err != nil || !strings.Contains(out, "verify OK") {
			t.Fatalf("openssl req -verify: %v\n%s", err, out)
		}
	})
}
