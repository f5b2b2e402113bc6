package pkitool_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/pkitool"
)

func TestNewKeyAndCSR(t *testing.T) {
	pkitest.OpenSSL(t)
	dir := t.TempDir()
	key, err := pkitool.NewKey(pkitool.KeyRequest{Type: pki.KeyRSA2048, Output: pkitool.Output{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "device.key")
	wantMode(t, keyPath, 0o600)
	if got := key.Files[0].What; !strings.Contains(got, "RSA 2048") {
		t.Errorf("What = %q, want the key type", got)
	}
	if _, err := pkitool.NewKey(pkitool.KeyRequest{Output: pkitool.Output{Dir: dir}}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second key: error %v, want fs.ErrExist", err)
	}
	pkitest.RunOpenSSL(t, dir, "pkey", "-in", "device.key", "-check", "-noout")

	// A CSR for the existing key writes the CSR only.
	res, err := pkitool.NewCSR(pkitool.CSRRequest{Subject: fullSubject, KeyPath: keyPath, Output: pkitool.Output{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || filepath.Base(res.Files[0].Path) != "device.csr" {
		t.Errorf("wrote %v, want device.csr only", res.Files)
	}
	out := pkitest.RunOpenSSL(t, dir, "req", "-in", "device.csr", "-noout", "-verify", "-subject", "-nameopt", "RFC2253")
	if !strings.Contains(out, "subject=dnQualifier=batch-7,serialNumber=SN-0042,CN=DemoThing,OU=Line 4,O=AMZ,ST=Karnataka,C=IN") {
		t.Errorf("openssl req: %s", out)
	}
	if _, err := pkitool.NewCSR(pkitool.CSRRequest{Subject: fullSubject, KeyPath: keyPath, Output: pkitool.Output{Dir: dir}}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second CSR: error %v, want fs.ErrExist", err)
	}

	// Without a key, a new one goes beside the CSR.
	res, err = pkitool.NewCSR(pkitool.CSRRequest{Subject: pkitool.Subject{CommonName: "other"}, KeyType: pki.KeyECP384, Output: pkitool.Output{Dir: dir, Name: "other"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 {
		t.Errorf("wrote %v, want other.key and other.csr", res.Files)
	}
	wantMode(t, filepath.Join(dir, "other.key"), 0o600)
	pkitest.RunOpenSSL(t, dir, "req", "-in", "other.csr", "-noout", "-verify")
}
