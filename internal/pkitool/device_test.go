package pkitool_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/pkitool"
)

var fullSubject = pkitool.Subject{CommonName: "DemoThing", Country: "IN", Organization: "AMZ", OrganizationalUnit: "Line 4",
	State: "Karnataka", SerialNumber: "SN-0042", DNQualifier: "batch-7"}

// TestDeviceCertOpenSSL issues device certificates the three ways (new key,
// existing key made by openssl, CSR made by openssl) and checks them with
// openssl: verification as a TLS client under the CA, the subject
// attributes JITP templates read, the key matching the certificate.
func TestDeviceCertOpenSSL(t *testing.T) {
	pkitest.OpenSSL(t)
	dir := t.TempDir()
	newRoot(t, dir, "ca", pki.KeyRSA2048)
	pkitest.RunOpenSSL(t, dir, "genrsa", "-out", "openssl.key", "2048")
	pkitest.RunOpenSSL(t, dir, "req", "-new", "-key", "openssl.key", "-out", "openssl.csr",
		"-subj", "/C=IN/ST=Karnataka/O=AMZ/OU=Line 4/CN=DemoThing/serialNumber=SN-0042/dnQualifier=batch-7")
	tests := []struct {
		name    string
		req     pkitool.DeviceCertRequest
		keyFile string // the key of the certificate
		files   int
	}{
		{"new key", pkitool.DeviceCertRequest{Subject: fullSubject, Output: pkitool.Output{Name: "new"}}, "new.key", 3},
		{"openssl key", pkitool.DeviceCertRequest{Subject: fullSubject, KeyPath: filepath.Join(dir, "openssl.key"), Output: pkitool.Output{Name: "fromkey"}}, "openssl.key", 2},
		{"openssl CSR", pkitool.DeviceCertRequest{CSRPath: filepath.Join(dir, "openssl.csr"), Output: pkitool.Output{Name: "fromcsr"}}, "openssl.key", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.CACertPath, tt.req.CAKeyPath = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
			tt.req.Output.Dir = dir
			res, err := pkitool.IssueDeviceCert(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != tt.files {
				t.Errorf("wrote %v, want %d files", res.Files, tt.files)
			}
			name := tt.req.Output.Name
			crt, chain := name+".crt", name+"-chain.crt"
			wantMode(t, filepath.Join(dir, crt), 0o644)
			wantMode(t, filepath.Join(dir, chain), 0o644)
			if tt.files == 3 {
				wantMode(t, filepath.Join(dir, tt.keyFile), 0o600)
			}
			if out := pkitest.RunOpenSSL(t, dir, "verify", "-purpose", "sslclient", "-CAfile", "ca.pem", crt); !strings.Contains(out, crt+": OK") {
				t.Errorf("openssl verify: %s", out)
			}
			// The chain file is `cat device.crt ca.pem`, as seed 000 makes it.
			if got, want := read(t, filepath.Join(dir, chain)), read(t, filepath.Join(dir, crt))+read(t, filepath.Join(dir, "ca.pem")); got != want {
				t.Errorf("%s is not the certificate followed by ca.pem", chain)
			}
			subject := pkitest.RunOpenSSL(t, dir, "x509", "-in", crt, "-noout", "-subject", "-nameopt", "RFC2253")
			if want := "subject=dnQualifier=batch-7,serialNumber=SN-0042,CN=DemoThing,OU=Line 4,O=AMZ,ST=Karnataka,C=IN"; strings.TrimSpace(subject) != want {
				t.Errorf("openssl subject\n got %s\nwant %s", strings.TrimSpace(subject), want)
			}
			if diff := cmp.Diff(fullSubject, pkitool.SubjectOf(res.Certificate.Subject)); diff != "" {
				t.Errorf("subject (-want +got):\n%s", diff)
			}
			// openssl agrees that the key is the certificate's.
			certPub := pkitest.RunOpenSSL(t, dir, "x509", "-in", crt, "-noout", "-pubkey")
			keyPub := pkitest.RunOpenSSL(t, dir, "pkey", "-in", tt.keyFile, "-pubout")
			if certPub != keyPub {
				t.Errorf("the certificate's public key is not %s's", tt.keyFile)
			}
			text := pkitest.RunOpenSSL(t, dir, "x509", "-in", crt, "-noout", "-text")
			if !strings.Contains(text, "TLS Web Client Authentication") {
				t.Errorf("no clientAuth extended key usage:\n%s", text)
			}
			if got := opensslID(t, dir, crt); got != res.ID {
				t.Errorf("ID %s, openssl's SHA-256 fingerprint %s", res.ID, got)
			}
		})
	}
}

// opensslID is the AWS certificate ID as openssl computes it.
func opensslID(t *testing.T, dir, file string) string {
	t.Helper()
	out := pkitest.RunOpenSSL(t, dir, "x509", "-in", file, "-noout", "-fingerprint", "-sha256")
	_, fp, _ := strings.Cut(strings.TrimSpace(out), "=")
	return strings.ToLower(strings.ReplaceAll(fp, ":", ""))
}

func TestDeviceCertRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	if _, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: "Root"}, Output: pkitool.Output{Dir: dir}, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	req := pkitool.DeviceCertRequest{CACertPath: filepath.Join(dir, "ca.pem"), CAKeyPath: filepath.Join(dir, "ca.key"),
		Subject: pkitool.Subject{CommonName: "dev"}, Output: pkitool.Output{Dir: dir}, Now: fixedNow}
	if _, err := pkitool.IssueDeviceCert(req); err != nil {
		t.Fatal(err)
	}
	// Each of the three outputs alone blocks the command.
	for _, name := range []string{"device.key", "device.crt", "device-chain.crt"} {
		t.Run(name, func(t *testing.T) {
			for _, other := range []string{"device.key", "device.crt", "device-chain.crt"} {
				if other != name {
					os.Remove(filepath.Join(dir, other))
				}
			}
			before := snapshot(t, dir)
			_, err := pkitool.IssueDeviceCert(req)
			if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), name+" already exists") {
				t.Fatalf("error %v, want %s already exists", err, name)
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("a refused command changed the directory (-before +after):\n%s", diff)
			}
			req := req
			req.Output.Force = true
			if _, err := pkitool.IssueDeviceCert(req); err != nil {
				t.Fatalf("with Force: %v", err)
			}
			wantMode(t, filepath.Join(dir, "device.key"), 0o600)
		})
	}
}

func TestDeviceCertErrors(t *testing.T) {
	dir := t.TempDir()
	ca := pkitool.Output{Dir: dir}
	if _, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: "Root"}, Output: ca, Now: fixedNow, Validity: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := pkitool.NewCSR(pkitool.CSRRequest{Subject: pkitool.Subject{CommonName: "dev"}, Output: ca}); err != nil {
		t.Fatal(err)
	}
	weak := filepath.Join(dir, "weak.key")
	if err := os.WriteFile(weak, []byte(pkitestRSA1024), 0o600); err != nil {
		t.Fatal(err)
	}
	caPEM, caKey := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	tests := []struct {
		name string
		req  pkitool.DeviceCertRequest
		now  time.Time
		want string
	}{
		{"no CA", pkitool.DeviceCertRequest{Subject: pkitool.Subject{CommonName: "x"}}, fixedNow(), "both the CA certificate and its private key"},
		{"no subject", pkitool.DeviceCertRequest{CACertPath: caPEM, CAKeyPath: caKey}, fixedNow(), "no attribute given"},
		{"CSR and subject", pkitool.DeviceCertRequest{CACertPath: caPEM, CAKeyPath: caKey, CSRPath: filepath.Join(dir, "device.csr"), Subject: pkitool.Subject{CommonName: "x"}}, fixedNow(), "the subject comes from the CSR"},
		{"CSR and key", pkitool.DeviceCertRequest{CACertPath: caPEM, CAKeyPath: caKey, CSRPath: filepath.Join(dir, "device.csr"), KeyPath: filepath.Join(dir, "device.key")}, fixedNow(), "not both"},
		{"key type with CSR", pkitool.DeviceCertRequest{CACertPath: caPEM, CAKeyPath: caKey, CSRPath: filepath.Join(dir, "device.csr"), KeyType: pki.KeyRSA2048}, fixedNow(), "key type is for a new key"},
		{"CSR is a key", pkitool.DeviceCertRequest{CACertPath: caPEM, CAKeyPath: caKey, CSRPath: filepath.Join(dir, "device.key")}, fixedNow(), "not CERTIFICATE REQUEST"},
		{"RSA 1024 key", pkitool.DeviceCertRequest{CACertPath: caPEM, CAKeyPath: caKey, KeyPath: weak, Subject: pkitool.Subject{CommonName: "x"}}, fixedNow(), "at least 2048 bits"},
		{"expired CA", pkitool.DeviceCertRequest{CACertPath: caPEM, CAKeyPath: caKey, Subject: pkitool.Subject{CommonName: "x"}}, fixedNow().Add(72 * time.Hour), "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Output = pkitool.Output{Dir: t.TempDir()}
			tt.req.Now = func() time.Time { return tt.now }
			_, err := pkitool.IssueDeviceCert(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if entries := snapshot(t, tt.req.Output.Dir); len(entries) != 0 {
				t.Errorf("a failed command wrote %v", entries)
			}
		})
	}
}

// pkitestRSA1024 is a key AWS IoT refuses.
var pkitestRSA1024 = func() string {
	b, err := os.ReadFile("../pki/testdata/keys/rsa-1024-pkcs1.pem")
	if err != nil {
		panic(err)
	}
	return string(b)
}()
