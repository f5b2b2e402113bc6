package pkitool_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/pkitool"
)

// TestCreateCAOpenSSL makes roots of every common key type and an
// intermediate under each, and has openssl read and verify them.
func TestCreateCAOpenSSL(t *testing.T) {
	pkitest.OpenSSL(t)
	for _, kt := range []pki.KeyType{pki.KeyECP256, pki.KeyECP384, pki.KeyRSA2048} {
		t.Run(string(kt), func(t *testing.T) {
			dir := t.TempDir()
			root := newRoot(t, dir, "root", kt)
			if len(root.Files) != 2 {
				t.Fatalf("root wrote %v, want a key and a certificate", root.Files)
			}
			wantMode(t, filepath.Join(dir, "root.key"), 0o600)
			wantMode(t, filepath.Join(dir, "root.pem"), 0o644)
			if got := pki.CertificateID(pkitest.ReadCertificate(t, filepath.Join(dir, "root.pem")).Raw); got != root.ID {
				t.Errorf("ID %s, want the SHA-256 of the file's certificate %s", root.ID, got)
			}
			text := pkitest.RunOpenSSL(t, dir, "x509", "-in", "root.pem", "-noout", "-text")
			for _, want := range []string{"CA:TRUE", "Certificate Sign, CRL Sign", "Subject: C = IN, O = AMZ, CN = root Root CA"} {
				if !strings.Contains(text, want) {
					t.Errorf("openssl x509 -text lacks %q:\n%s", want, text)
				}
			}
			pkitest.RunOpenSSL(t, dir, "pkey", "-in", "root.key", "-noout")
			if out := pkitest.RunOpenSSL(t, dir, "verify", "-CAfile", "root.pem", "root.pem"); !strings.Contains(out, "OK") {
				t.Errorf("openssl verify root: %s", out)
			}

			inter, err := pkitool.CreateCA(pkitool.CARequest{
				Subject:        pkitool.Subject{CommonName: "Factory Line 4", Organization: "AMZ"},
				KeyType:        kt,
				ParentCertPath: filepath.Join(dir, "root.pem"),
				ParentKeyPath:  filepath.Join(dir, "root.key"),
				Output:         pkitool.Output{Dir: dir, Name: "line4"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(inter.Files) != 3 {
				t.Fatalf("intermediate wrote %v, want a key, a certificate and a chain", inter.Files)
			}
			if !inter.Certificate.MaxPathLenZero || inter.Certificate.MaxPathLen != 0 {
				t.Errorf("intermediate pathlen %d (zero %v), want 0", inter.Certificate.MaxPathLen, inter.Certificate.MaxPathLenZero)
			}
			if out := pkitest.RunOpenSSL(t, dir, "verify", "-CAfile", "root.pem", "line4.pem"); !strings.Contains(out, "line4.pem: OK") {
				t.Errorf("openssl verify intermediate: %s", out)
			}
			chain, err := pki.ParseCertificateChainPEM(read(t, filepath.Join(dir, "line4-chain.pem")))
			if err != nil || len(chain) != 2 || chain[0].Equal(chain[1]) || !chain[1].Equal(root.Certificate) {
				t.Errorf("line4-chain.pem: %d certificates, %v; want the intermediate then the root", len(chain), err)
			}
			// A device under the intermediate, verified through the chain.
			if _, err := pkitool.IssueDeviceCert(pkitool.DeviceCertRequest{
				CACertPath: filepath.Join(dir, "line4-chain.pem"), CAKeyPath: filepath.Join(dir, "line4.key"),
				Subject: pkitool.Subject{CommonName: "dev-1"}, Output: pkitool.Output{Dir: dir},
			}); err != nil {
				t.Fatal(err)
			}
			out := pkitest.RunOpenSSL(t, dir, "verify", "-purpose", "sslclient", "-CAfile", "root.pem", "-untrusted", "line4.pem", "device.crt")
			if !strings.Contains(out, "device.crt: OK") {
				t.Errorf("openssl verify device: %s", out)
			}
			// The chain file is device, intermediate, root.
			if got := strings.Count(read(t, filepath.Join(dir, "device-chain.crt")), "BEGIN CERTIFICATE"); got != 3 {
				t.Errorf("device-chain.crt holds %d certificates, want 3", got)
			}
		})
	}
}

func TestCreateCARefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	req := pkitool.CARequest{Subject: pkitool.Subject{CommonName: "Root"}, Output: pkitool.Output{Dir: dir}, Now: fixedNow}
	first, err := pkitool.CreateCA(req)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)

	_, err = pkitool.CreateCA(req)
	var exists *pkitool.ExistsError
	if !errors.As(err, &exists) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second CreateCA: error %v, want an ExistsError", err)
	}
	if want := []string{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")}; !cmp.Equal(exists.Paths, want) {
		t.Errorf("ExistsError.Paths = %v, want %v", exists.Paths, want)
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a refused CreateCA changed the directory (-before +after):\n%s", diff)
	}

	// Only the key exists (the certificate was deleted): still refused, key kept.
	removeFile(t, filepath.Join(dir, "ca.pem"))
	if _, err := pkitool.CreateCA(req); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateCA over a lone key: error %v, want fs.ErrExist", err)
	}
	if read(t, filepath.Join(dir, "ca.key")) != before["ca.key"] {
		t.Error("the existing key was replaced")
	}

	// Force replaces both.
	req.Output.Force = true
	second, err := pkitool.CreateCA(req)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || read(t, filepath.Join(dir, "ca.key")) == before["ca.key"] {
		t.Error("--force did not replace the CA")
	}
	for _, w := range second.Files {
		if filepath.Base(w.Path) == "ca.key" && !w.Replaced {
			t.Errorf("%v: want Replaced", w)
		}
	}
	wantMode(t, filepath.Join(dir, "ca.key"), 0o600)
}

func TestCreateCAWithExistingKey(t *testing.T) {
	dir := t.TempDir()
	key, err := pkitool.NewKey(pkitool.KeyRequest{Type: pki.KeyECP384, Output: pkitool.Output{Dir: dir, Name: "ca"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pkitool.CreateCA(pkitool.CARequest{
		Subject: pkitool.Subject{CommonName: "Root"}, KeyPath: filepath.Join(dir, "ca.key"),
		Output: pkitool.Output{Dir: dir}, Now: fixedNow, Validity: 48 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || filepath.Base(res.Files[0].Path) != "ca.pem" {
		t.Errorf("wrote %v, want only ca.pem", res.Files)
	}
	if err := pki.CheckKeyMatch(res.Certificate, key.Key); err != nil {
		t.Error(err)
	}
	if got, want := res.Certificate.NotAfter, fixedNow().Add(48*time.Hour); !got.Equal(want) {
		t.Errorf("notAfter %s, want %s", got, want)
	}
}

func TestCreateCAErrors(t *testing.T) {
	dir := t.TempDir()
	newRoot(t, dir, "root", "")
	newRoot(t, dir, "other", "")
	_, err := pkitool.IssueDeviceCert(pkitool.DeviceCertRequest{
		CACertPath: filepath.Join(dir, "root.pem"), CAKeyPath: filepath.Join(dir, "root.key"),
		Subject: pkitool.Subject{CommonName: "dev"}, Output: pkitool.Output{Dir: dir},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  pkitool.CARequest
		want string
	}{
		{"no subject", pkitool.CARequest{}, "no attribute given"},
		{"parent without key", pkitool.CARequest{ParentCertPath: filepath.Join(dir, "root.pem")}, "both the CA certificate and its private key"},
		{"parent key of another CA", pkitool.CARequest{ParentCertPath: filepath.Join(dir, "root.pem"), ParentKeyPath: filepath.Join(dir, "other.key")}, "other.key is not the key of"},
		{"parent is a device", pkitool.CARequest{ParentCertPath: filepath.Join(dir, "device.crt"), ParentKeyPath: filepath.Join(dir, "device.key")}, "not a CA certificate"},
		{"missing parent", pkitool.CARequest{ParentCertPath: filepath.Join(dir, "nope.pem"), ParentKeyPath: filepath.Join(dir, "root.key")}, "no such file"},
		{"key type with existing key", pkitool.CARequest{KeyPath: filepath.Join(dir, "root.key"), KeyType: pki.KeyRSA2048}, "key type is for a new key"},
		{"negative validity", pkitool.CARequest{Validity: -time.Hour}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.Subject.IsZero() && tt.name != "no subject" {
				tt.req.Subject = pkitool.Subject{CommonName: "x"}
			}
			tt.req.Output = pkitool.Output{Dir: t.TempDir()}
			_, err := pkitool.CreateCA(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if entries := snapshot(t, tt.req.Output.Dir); len(entries) != 0 {
				t.Errorf("a failed CreateCA wrote %v", entries)
			}
		})
	}
}

// TestIntermediateCappedByParent: an intermediate asked to outlive its
// parent ends with the parent, and says so.
func TestIntermediateCappedByParent(t *testing.T) {
	dir := t.TempDir()
	if _, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: "Root"}, Validity: 24 * time.Hour,
		Output: pkitool.Output{Dir: dir, Name: "root"}, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	res, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: "Issuing"},
		ParentCertPath: filepath.Join(dir, "root.pem"), ParentKeyPath: filepath.Join(dir, "root.key"),
		Output: pkitool.Output{Dir: dir, Name: "issuing"}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "never outlives its issuer") {
		t.Errorf("notes %q, want one about the parent's expiry", res.Notes)
	}
}
