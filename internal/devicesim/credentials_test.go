package devicesim_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/devicesim"
	"github.com/iotcore/iotcore/internal/pkitool"
)

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	if _, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: "Root"}, Output: pkitool.Output{Dir: dir}}); err != nil {
		t.Fatal(err)
	}
	for _, cn := range []string{"a", "b"} {
		if _, err := pkitool.IssueDeviceCert(pkitool.DeviceCertRequest{CACertPath: filepath.Join(dir, "ca.pem"), CAKeyPath: filepath.Join(dir, "ca.key"),
			Subject: pkitool.Subject{CommonName: cn}, Output: pkitool.Output{Dir: dir, Name: cn}}); err != nil {
			t.Fatal(err)
		}
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	pool, cert, err := devicesim.LoadCredentials(p("ca.pem"), p("a-chain.crt"), p("a.key"))
	if err != nil {
		t.Fatal(err)
	}
	if pool == nil || len(cert.Certificate) != 2 || cert.Leaf.Subject.CommonName != "a" {
		t.Errorf("loaded %d certificates, leaf %v; want the device and its CA", len(cert.Certificate), cert.Leaf.Subject)
	}
	tests := []struct {
		name              string
		ca, certFile, key string
		want              string
	}{
		{"key of another device", p("ca.pem"), p("a.crt"), p("b.key"), "b.key is not the key of the first certificate of"},
		{"key as certificate", p("ca.pem"), p("a.key"), p("a.key"), `PEM block is "PRIVATE KEY", not CERTIFICATE`},
		{"missing CA file", p("nope.pem"), p("a.crt"), p("a.key"), "no such file"},
		{"no key", p("ca.pem"), p("a.crt"), "", "both required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := devicesim.LoadCredentials(tt.ca, tt.certFile, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
