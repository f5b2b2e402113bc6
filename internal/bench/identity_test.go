package bench

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

func testIdentity(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	now := time.Now()
	key, err := pki.GenerateKey(pki.DefaultKeyType)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewRootCA(pkix.Name{CommonName: "test CA"}, key, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueClient(key.Public(), pkix.Name{CommonName: cn}, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key} // no Leaf: parsed on demand
}

func TestClientIDs(t *testing.T) {
	dev := testIdentity(t, "DemoThing")
	for _, tc := range []struct {
		name    string
		tmpl    string
		cert    tls.Certificate
		n       int
		want    []string
		wantErr string
	}{
		{"default", "", dev, 2, []string{"DemoThing-c0", "DemoThing-c1"}, ""},
		{"fixed, one connection", "DemoThing", dev, 1, []string{"DemoThing"}, ""},
		{"fixed, two connections", "DemoThing", dev, 2, nil, "no {i}"},
		{"no CN in template", "load-{role}-{i}", tls.Certificate{}, 2, []string{"load-c-0", "load-c-1"}, ""},
		{"CN without certificate", "{cn}-{i}", tls.Certificate{}, 1, nil, "no certificate"},
		{"certificate without CN", "{cn}-{i}", testIdentity(t, ""), 1, nil, "no CN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clientIDs(tc.tmpl, tc.cert, "c", tc.n)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("clientIDs = %v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("clientIDs = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
