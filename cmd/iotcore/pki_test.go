package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestPKICommands runs `iotcore pki` as a factory would (root CA,
// intermediate CA, device certificates from a new key, from `pki csr`, and
// from an openssl CSR) and checks the result with openssl: chains verify for
// TLS client use, keys are 0600, and nothing is overwritten without --force.
func TestPKICommands(t *testing.T) {
	pkitest.OpenSSL(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	cli := func(args ...string) cliResult { t.Helper(); return mustCLI(t, bin, dir, nil, args...) }
	openssl := func(args ...string) string { t.Helper(); return pkitest.RunOpenSSL(t, dir, args...) }

	cli("pki", "ca", "create", "--name", "root", "--key-type", "rsa-2048", "--c", "IN", "--o", "AMZ", "--cn", "Factory Root")
	cli("pki", "ca", "create", "--parent", "root.pem", "--parent-key", "root.key", "--name", "line4", "--cn", "Line 4", "--o", "AMZ", "--days", "30")
	dev := cli("pki", "device-cert", "--ca", "line4-chain.pem", "--ca-key", "line4.key", "--cn", "dev-1", "--c", "IN", "--o", "AMZ",
		"--ou", "Line 4", "--st", "Karnataka", "--serial-number", "SN-0001", "--dn-qualifier", "batch-7")
	cli("pki", "csr", "--name", "dev-2", "--key-type", "ec-p384", "--cn", "dev-2")
	cli("pki", "device-cert", "--ca", "line4-chain.pem", "--ca-key", "line4.key", "--csr", "dev-2.csr", "--name", "dev-2")
	openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "dev-3.key", "-out", "dev-3.csr", "-subj", "/CN=dev-3/C=IN")
	cli("pki", "device-cert", "--ca", "line4-chain.pem", "--ca-key", "line4.key", "--csr", "dev-3.csr", "--name", "dev-3")
	cli("pki", "key", "--name", "dev-4")
	cli("pki", "device-cert", "--ca", "root.pem", "--ca-key", "root.key", "--key", "dev-4.key", "--cn", "dev-4", "--name", "dev-4")

	for _, name := range []string{"root.key", "line4.key", "device.key", "dev-2.key", "dev-4.key"} {
		wantFileMode(t, filepath.Join(dir, name), 0o600)
	}
	for _, name := range []string{"root.pem", "line4.pem", "line4-chain.pem", "device.crt", "device-chain.crt", "dev-2.csr", "dev-2.crt", "dev-3.crt"} {
		wantFileMode(t, filepath.Join(dir, name), 0o644)
	}
	for _, crt := range []string{"device.crt", "dev-2.crt", "dev-3.crt"} {
		out := openssl("verify", "-purpose", "sslclient", "-CAfile", "root.pem", "-untrusted", "line4.pem", crt)
		if !strings.Contains(out, crt+": OK") {
			t.Errorf("openssl verify %s: %s", crt, out)
		}
	}
	if out := openssl("verify", "-purpose", "sslclient", "-CAfile", "root.pem", "dev-4.crt"); !strings.Contains(out, "OK") {
		t.Errorf("openssl verify dev-4.crt: %s", out)
	}
	// The chain file holds the device, the intermediate and the root, and openssl
	// verifies the device with the rest as untrusted intermediates.
	chain, err := os.ReadFile(filepath.Join(dir, "device-chain.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(chain), "BEGIN CERTIFICATE"); n != 3 {
		t.Errorf("device-chain.crt holds %d certificates, want 3", n)
	}
	if out := openssl("verify", "-CAfile", "root.pem", "-untrusted", "device-chain.crt", "device.crt"); !strings.Contains(out, "OK") {
		t.Errorf("openssl verify with the chain file: %s", out)
	}
	subject := openssl("x509", "-in", "device.crt", "-noout", "-subject", "-nameopt", "RFC2253")
	if want := "subject=dnQualifier=batch-7,serialNumber=SN-0001,CN=dev-1,OU=Line 4,O=AMZ,ST=Karnataka,C=IN"; strings.TrimSpace(subject) != want {
		t.Errorf("device subject %s, want %s", strings.TrimSpace(subject), want)
	}
	// The id printed is AWS's certificate id: openssl's SHA-256 fingerprint.
	fp := openssl("x509", "-in", "device.crt", "-noout", "-fingerprint", "-sha256")
	_, fp, _ = strings.Cut(strings.TrimSpace(fp), "=")
	if id := strings.ToLower(strings.ReplaceAll(fp, ":", "")); !strings.Contains(dev.stdout, "certificate id "+id) {
		t.Errorf("device-cert printed %q, want the id %s", dev.stdout, id)
	}
	// The 30-day intermediate caps the device's default year, and says so.
	if !strings.Contains(dev.stdout, "note: valid until") || !strings.Contains(dev.stdout, "never outlives its issuer") {
		t.Errorf("device-cert did not say its validity was capped: %s", dev.stdout)
	}

	t.Run("never overwrites", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "taken.crt"), []byte("taken"), 0o644); err != nil {
			t.Fatal(err)
		}
		before := map[string][]byte{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			before[e.Name()], _ = os.ReadFile(filepath.Join(dir, e.Name()))
		}
		for _, args := range [][]string{
			{"pki", "ca", "create", "--name", "root", "--cn", "Another"},
			{"pki", "key", "--name", "dev-4"},
			{"pki", "csr", "--name", "dev-2", "--cn", "x"},
			{"pki", "device-cert", "--ca", "root.pem", "--ca-key", "root.key", "--cn", "dev-1"},
			{"pki", "verification-cert", "--ca", "root.pem", "--ca-key", "root.key", "--code", "abc", "--name", "taken"},
		} {
			res := runCLI(t, bin, dir, nil, args...)
			if res.code != 1 || !strings.Contains(res.stderr, "already exist") || !strings.Contains(res.stderr, "--force") {
				t.Errorf("iotcore %v: exit %d, %q; want 1 and a refusal that names --force", args, res.code, res.stderr)
			}
		}
		entries, _ = os.ReadDir(dir)
		if len(entries) != len(before) {
			t.Errorf("refused commands left %d files, want %d", len(entries), len(before))
		}
		for name, data := range before {
			if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != string(data) {
				t.Errorf("%s changed", name)
			}
		}
		// --force replaces, and the new key is 0600 too.
		cli("pki", "device-cert", "--ca", "root.pem", "--ca-key", "root.key", "--cn", "dev-1", "--force")
		if got, _ := os.ReadFile(filepath.Join(dir, "device.key")); string(got) == string(before["device.key"]) {
			t.Error("--force did not replace device.key")
		}
		wantFileMode(t, filepath.Join(dir, "device.key"), 0o600)
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"pki", "device-cert", "--ca", "root.pem", "--ca-key", "line4.key", "--cn", "x", "--name", "x"}, "line4.key is not the key of root.pem"},
			{[]string{"pki", "ca", "create", "--name", "x", "--c", "India"}, "two-letter"},
			{[]string{"pki", "ca", "create", "--name", "x", "--cn", "x", "--key-type", "dsa"}, "is not one of"},
			{[]string{"pki", "ca", "create", "--name", "x", "--cn", "x", "--parent", "root.pem"}, "both --parent and --parent-key"},
			{[]string{"pki", "device-cert", "--ca", "root.pem", "--ca-key", "root.key", "--csr", "dev-2.csr", "--cn", "x", "--name", "x"}, "the subject comes from the CSR"},
			{[]string{"pki", "device-cert", "--cn", "x"}, `required flag(s) "ca", "ca-key" not set`},
		} {
			res := runCLI(t, bin, dir, nil, tt.args...)
			if res.code != 1 || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("iotcore %v: exit %d, %q; want 1 and %q", tt.args, res.code, res.stderr, tt.want)
			}
		}
	})
}
