package pkitool_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/pkitool"
)

func TestVerificationCert(t *testing.T) {
	pkitest.OpenSSL(t)
	dir := t.TempDir()
	ca := newRoot(t, dir, "ca", "")
	const code = "6d2d6c2a1b7d1e2a3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9"
	res, err := pkitool.IssueVerificationCert(pkitool.VerificationRequest{
		CACertPath: filepath.Join(dir, "ca.pem"), CAKeyPath: filepath.Join(dir, "ca.key"),
		RegistrationCode: " " + code + "\n", Output: pkitool.Output{Dir: dir},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || filepath.Base(res.Files[0].Path) != "verification.crt" {
		t.Errorf("wrote %v, want verification.crt only (its key is of no use)", res.Files)
	}
	if err := pki.CheckVerificationCertificate(ca.Certificate, res.Certificate, code); err != nil {
		t.Error(err)
	}
	if out := pkitest.RunOpenSSL(t, dir, "verify", "-CAfile", "ca.pem", "verification.crt"); !strings.Contains(out, "OK") {
		t.Errorf("openssl verify: %s", out)
	}
	if _, err := pkitool.IssueVerificationCert(pkitool.VerificationRequest{
		CACertPath: filepath.Join(dir, "ca.pem"), CAKeyPath: filepath.Join(dir, "ca.key"), Output: pkitool.Output{Dir: dir, Name: "empty"},
	}); err == nil || !strings.Contains(err.Error(), "no registration code") {
		t.Errorf("no code: error %v", err)
	}
}
