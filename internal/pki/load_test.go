package pki_test

import (
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

var caSubject = pkix.Name{CommonName: "iotcore Root CA", Organization: []string{"iotcore"}}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrCreateAuthorityFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "pki") // missing directories are created
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	a, created, err := pki.LoadOrCreateAuthority(certPath, keyPath, caSubject, 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false on first start")
	}
	c := a.Certificate
	if c.Subject.CommonName != caSubject.CommonName || !c.NotBefore.Equal(t0.Add(-pki.Backdate)) || !c.NotAfter.Equal(t0.Add(pki.RootValidity)) {
		t.Errorf("subject %q valid %s to %s; want %q valid %s to %s", c.Subject, c.NotBefore, c.NotAfter,
			caSubject.CommonName, t0.Add(-pki.Backdate), t0.Add(pki.RootValidity))
	}
	if got := keyName(c.PublicKey); got != "EC P-256" {
		t.Errorf("key %s, want EC P-256", got)
	}
	if got := fileMode(t, keyPath); got != 0o600 {
		t.Errorf("key file mode %o, want 600", got)
	}
	if got := fileMode(t, certPath); got != 0o644 {
		t.Errorf("certificate file mode %o, want 644", got)
	}
	if got := fileMode(t, dir); got != 0o700 {
		t.Errorf("created directory mode %o, want 700", got)
	}

	// The next start, a year on, loads the same CA, whatever subject and validity it is asked for.
	again, created, err := pki.LoadOrCreateAuthority(certPath, keyPath, pkix.Name{CommonName: "other"}, time.Hour, t0.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if created || !again.Certificate.Equal(c) {
		t.Errorf("second start: created %t, same certificate %t; want false, true", created, again.Certificate.Equal(c))
	}
}

func TestLoadOrCreateAuthority(t *testing.T) {
	other := pkitest.NewRoot(t, "Other")
	otherKeyPEM, _ := pki.MarshalPrivateKeyPEM(other.Key)
	leaf, leafKey := pkitest.NewClient(t, other, pkix.Name{CommonName: "leaf"})
	leafKeyPEM, _ := pki.MarshalPrivateKeyPEM(leafKey)

	tests := []struct {
		name        string
		prepare     func(t *testing.T, certPath, keyPath string) // after a first start at t0
		now         time.Time
		wantCreated bool
		wantErr     error
		wantText    string
	}{
		{"reuse", func(t *testing.T, c, k string) {}, t0.Add(time.Hour), false, nil, ""},
		{"key only, as after a crash between the writes", func(t *testing.T, c, k string) { os.Remove(c) }, t0, true, nil, ""},
		{"certificate only", func(t *testing.T, c, k string) { os.Remove(k) }, t0, false, nil, "but not its key"},
		{"key of another CA", func(t *testing.T, c, k string) { writeFile(t, k, otherKeyPEM) }, t0, false, pki.ErrKeyMismatch, ""},
		{"expired", func(t *testing.T, c, k string) {}, t0.Add(pki.RootValidity + time.Second), false, pki.ErrExpired, "to start over, remove it"},
		{"clock before notBefore", func(t *testing.T, c, k string) {}, t0.Add(-2 * pki.Backdate), false, pki.ErrNotYetValid, ""},
		{"a leaf instead of a CA", func(t *testing.T, c, k string) {
			writeFile(t, c, pki.EncodeCertificatePEM(leaf))
			writeFile(t, k, leafKeyPEM)
		}, t0, false, pki.ErrNotCA, ""},
		{"damaged certificate", func(t *testing.T, c, k string) { writeFile(t, c, "garbage") }, t0, false, nil, "no PEM certificate found"},
		{"damaged key", func(t *testing.T, c, k string) { writeFile(t, k, "garbage") }, t0, false, nil, "no PEM private key found"},
		{"damaged key alone", func(t *testing.T, c, k string) { os.Remove(c); writeFile(t, k, "garbage") }, t0, false, nil, "no PEM private key found"},
		{"certificate path is a directory", func(t *testing.T, c, k string) { os.Remove(c); os.Mkdir(c, 0o700) }, t0, false, nil, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
			first, _, err := pki.LoadOrCreateAuthority(certPath, keyPath, caSubject, 0, t0)
			if err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, certPath, keyPath)
			before, _ := os.ReadFile(certPath)

			a, created, err := pki.LoadOrCreateAuthority(certPath, keyPath, caSubject, 0, tt.now)
			if tt.wantErr != nil || tt.wantText != "" {
				if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("error = %v, want %v containing %q", err, tt.wantErr, tt.wantText)
				}
				if after, _ := os.ReadFile(certPath); string(after) != string(before) {
					t.Error("a failed load changed the certificate file")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created != tt.wantCreated {
				t.Errorf("created = %t, want %t", created, tt.wantCreated)
			}
			if err := pki.CheckKeyMatch(a.Certificate, first.Key); err != nil {
				t.Errorf("the CA does not use the key on disk: %v", err)
			}
			if got := pkitest.ReadCertificate(t, certPath); !got.Equal(a.Certificate) {
				t.Error("the returned certificate is not the one on disk")
			}
		})
	}
}

func TestLoadOrCreateServerCertificate(t *testing.T) {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	root := newTestRoot(t, pki.KeyECP256)
	otherRoot := newTestRoot(t, pki.KeyECP256)
	inter := pkitest.NewIntermediate(t, root, "Service CA")
	strangerKeyPEM, _ := pki.MarshalPrivateKeyPEM(pkitest.NewKey(t, pki.KeyECP256))

	tests := []struct {
		name       string
		prepare    func(t *testing.T, certPath, keyPath string) // after a first issue at t0
		ca         *pki.Authority
		hosts      []string
		validity   time.Duration
		now        time.Time
		wantReason string // "" means reused
		wantChain  int
	}{
		{"reuse", nil, root, hosts, 0, t0.Add(24 * time.Hour), "", 1},
		{"reuse with hosts reordered and in other case", nil, root, []string{"::1", "LOCALHOST", "127.0.0.1"}, 0, t0, "", 1},
		{"reuse 31 days before expiry", nil, root, hosts, 0, t0.Add(pki.ServerValidity - 31*24*time.Hour), "", 1},
		{"renew 29 days before expiry", nil, root, hosts, 0, t0.Add(pki.ServerValidity - 29*24*time.Hour), "expires at", 1},
		{"renew after expiry", nil, root, hosts, 0, t0.Add(2 * pki.ServerValidity), "expires at", 1},
		{"host added", nil, root, append(hosts, "iot.example.com"), 0, t0, "hosts changed from localhost,127.0.0.1,::1 to iot.example.com,localhost,127.0.0.1,::1", 1},
		{"host removed", nil, root, hosts[:1], 0, t0, "hosts changed", 1},
		{"CA changed", nil, otherRoot, hosts, 0, t0, "not issued by the current CA", 1},
		{"issued by an intermediate: chain includes it", nil, inter, hosts, 0, t0, "not issued by the current CA", 2},
		{"key replaced", func(t *testing.T, c, k string) { writeFile(t, k, strangerKeyPEM) }, root, hosts, 0, t0, "the key does not match", 1},
		{"certificate damaged", func(t *testing.T, c, k string) { writeFile(t, c, "garbage") }, root, hosts, 0, t0, "unreadable certificate", 1},
		{"key damaged", func(t *testing.T, c, k string) { writeFile(t, k, "garbage") }, root, hosts, 0, t0, "unreadable key", 1},
		{"certificate missing", func(t *testing.T, c, k string) { os.Remove(c) }, root, hosts, 0, t0, "no certificate or key file", 1},
		{"clock moved back", nil, root, hosts, 0, t0.Add(-2 * pki.Backdate), "not valid until", 1},
		{"short validity: reuse in the first half", nil, root, hosts, 2 * time.Hour, t0.Add(10 * time.Minute), "", 1},
		{"short validity: renew in the second half", nil, root, hosts, 2 * time.Hour, t0.Add(90 * time.Minute), "expires at", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			certPath, keyPath := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
			first, reason, err := pki.LoadOrCreateServerCertificate(root, certPath, keyPath, hosts, tt.validity, t0)
			if err != nil {
				t.Fatal(err)
			}
			if reason != "no certificate or key file" {
				t.Errorf("first reason = %q", reason)
			}
			if tt.prepare != nil {
				tt.prepare(t, certPath, keyPath)
			}
			got, reason, err := pki.LoadOrCreateServerCertificate(tt.ca, certPath, keyPath, tt.hosts, tt.validity, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantReason == "" && reason != "" || !strings.Contains(reason, tt.wantReason) {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
			reused := got.Leaf.Equal(first.Leaf)
			if reused != (tt.wantReason == "") {
				t.Errorf("reused the first certificate: %t, want %t", reused, tt.wantReason == "")
			}
			if len(got.Certificate) != tt.wantChain {
				t.Errorf("chain of %d certificates, want %d", len(got.Certificate), tt.wantChain)
			}
			if err := pki.CheckSignedBy(got.Leaf, tt.ca.Certificate); err != nil {
				t.Error(err)
			}
			if onDisk := pkitest.ReadCertificate(t, certPath); !onDisk.Equal(got.Leaf) {
				t.Error("the returned certificate is not the one on disk")
			}
			if !reused {
				if err := pki.CheckValidAt(got.Leaf, tt.now); err != nil {
					t.Errorf("new certificate: %v", err)
				}
				if got := fileMode(t, keyPath); got != 0o600 {
					t.Errorf("key file mode %o, want 600", got)
				}
			}
		})
	}
	if _, _, err := pki.LoadOrCreateServerCertificate(root, filepath.Join(t.TempDir(), "s.pem"), filepath.Join(t.TempDir(), "s.key"), nil, 0, t0); err == nil {
		t.Error("no hosts: no error")
	}
	if _, _, err := pki.LoadOrCreateServerCertificate(nil, filepath.Join(t.TempDir(), "s.pem"), filepath.Join(t.TempDir(), "s.key"), hosts, 0, t0); err == nil {
		t.Error("no CA: no error")
	}
}
