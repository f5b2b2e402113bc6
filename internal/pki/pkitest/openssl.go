package pkitest

import (
	"bytes"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/pki"
)

// OpenSSL returns the path of the openssl program. When it is not installed
// the test is skipped, or fails if CI is set to a true value.
func OpenSSL(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		iottest.Missing(t, "openssl not installed (apt-get install openssl): %v", err)
	}
	return path
}

// RunOpenSSL runs openssl with args in dir and returns its standard output.
// The test fails, showing standard error, if openssl does.
func RunOpenSSL(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(OpenSSL(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %q in %s: %v\n%s", args, dir, err, stderr.String())
	}
	return stdout.String()
}

// TryOpenSSL runs openssl with args in dir and returns its combined output
// and its error, for commands that are expected to fail.
func TryOpenSSL(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(OpenSSL(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// SeedCAConfig is deviceRootCA_openssl.conf from seed 000, verbatim.
const SeedCAConfig = `[ req ]
distinguished_name       = req_distinguished_name
extensions               = v3_ca
req_extensions           = v3_ca

[ v3_ca ]
basicConstraints         = CA:TRUE

[ req_distinguished_name ]
countryName              = Country Name (2 letter code)
countryName_default      = IN
countryName_min          = 2
countryName_max          = 2
organizationName         = Organization Name (eg, company)
organizationName_default = AMZ
`

// OpenSSLCA is a root CA that openssl made in Dir.
type OpenSSLCA struct {
	Dir      string
	KeyPath  string // PEM private key, as `openssl genrsa` wrote it
	CertPath string // PEM certificate
	Cert     *x509.Certificate
}

// Issued is a key and certificate that openssl made.
type Issued struct {
	KeyPath  string
	CertPath string
	Cert     *x509.Certificate
}

// NewSeedCA makes a root CA in dir with the commands of seed 000 steps 2 to
// 5, made non-interactive with -subj (such as "/C=IN/O=AMZ"); files are named
// name.key, name.csr, name.pem and name_openssl.conf:
//
//	openssl genrsa -out name.key 2048
//	openssl req -new -sha256 -key name.key -nodes -out name.csr -config name_openssl.conf -subj SUBJ
//	openssl x509 -req -days 3650 -extfile name_openssl.conf -extensions v3_ca -in name.csr -signkey name.key -out name.pem
func NewSeedCA(t testing.TB, dir, name, subj string) *OpenSSLCA {
	t.Helper()
	conf := name + "_openssl.conf"
	if err := os.WriteFile(filepath.Join(dir, conf), []byte(SeedCAConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	RunOpenSSL(t, dir, "genrsa", "-out", name+".key", "2048")
	RunOpenSSL(t, dir, "req", "-new", "-sha256", "-key", name+".key", "-nodes", "-out", name+".csr", "-config", conf, "-subj", subj)
	RunOpenSSL(t, dir, "x509", "-req", "-days", "3650", "-extfile", conf, "-extensions", "v3_ca", "-in", name+".csr", "-signkey", name+".key", "-out", name+".pem")
	ca := &OpenSSLCA{Dir: dir, KeyPath: filepath.Join(dir, name+".key"), CertPath: filepath.Join(dir, name+".pem")}
	ca.Cert = ReadCertificate(t, ca.CertPath)
	return ca
}

// Sign makes a key and a certificate signed by ca with the commands of seed
// 000 steps 7 to 9 (and of its device certificate steps): files name.key,
// name.csr and name.crt in ca.Dir. digest is an openssl digest option such as
// "sha256" (the seeds' choice) or "sha1".
//
//	openssl genrsa -out name.key 2048
//	openssl req -new -key name.key -out name.csr -subj SUBJ
//	openssl x509 -req -in name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out name.crt -days 500 -DIGEST
func (ca *OpenSSLCA) Sign(t testing.TB, name, subj, digest string) Issued {
	t.Helper()
	RunOpenSSL(t, ca.Dir, "genrsa", "-out", name+".key", "2048")
	RunOpenSSL(t, ca.Dir, "req", "-new", "-key", name+".key", "-out", name+".csr", "-subj", subj)
	RunOpenSSL(t, ca.Dir, "x509", "-req", "-in", name+".csr", "-CA", ca.CertPath, "-CAkey", ca.KeyPath,
		"-CAcreateserial", "-out", name+".crt", "-days", "500", "-"+digest)
	out := Issued{KeyPath: filepath.Join(ca.Dir, name+".key"), CertPath: filepath.Join(ca.Dir, name+".crt")}
	out.Cert = ReadCertificate(t, out.CertPath)
	return out
}

// ReadCertificate parses the first PEM certificate of a file.
func ReadCertificate(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pki.ParseCertificatePEM(string(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}
