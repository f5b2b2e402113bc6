package pki_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

func TestGenerateKey(t *testing.T) {
	tests := []struct {
		kt   pki.KeyType
		want string
	}{
		{"", "EC P-256"},
		{pki.KeyECP256, "EC P-256"},
		{pki.KeyECP384, "EC P-384"},
		{pki.KeyRSA2048, "RSA 2048"},
		{pki.KeyRSA3072, "RSA 3072"},
		{pki.KeyRSA4096, "RSA 4096"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kt), func(t *testing.T) {
			if testing.Short() && tt.kt == pki.KeyRSA4096 {
				t.Skip("slow")
			}
			key, err := pki.GenerateKey(tt.kt)
			if err != nil {
				t.Fatal(err)
			}
			if got := keyName(key.Public()); got != tt.want {
				t.Errorf("key = %s, want %s", got, tt.want)
			}
			text, err := pki.MarshalPrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(text, "-----BEGIN PRIVATE KEY-----\n") {
				t.Errorf("MarshalPrivateKeyPEM = %.40q..., want PKCS#8", text)
			}
			back, err := pki.ParsePrivateKeyPEM(text)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Error("parsed key differs from the generated one")
			}
			if err := pki.CheckPublicKey(key.Public()); err != nil {
				t.Errorf("CheckPublicKey(generated %s): %v", tt.kt, err)
			}
		})
	}
	if _, err := pki.GenerateKey("dsa-1024"); err == nil {
		t.Error("GenerateKey(dsa-1024) succeeded")
	}
}

func TestParseKeyType(t *testing.T) {
	tests := []struct {
		in      string
		want    pki.KeyType
		wantErr bool
	}{
		{"", pki.KeyECP256, false},
		{"ec-p256", pki.KeyECP256, false},
		{"RSA-2048", pki.KeyRSA2048, false},
		{" ec-p384 ", pki.KeyECP384, false},
		{"rsa-1024", "", true},
		{"ed25519", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := pki.ParseKeyType(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseKeyType(%q) = %q, %v; want %q, error %t", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
	ec := pkitest.NewKey(t, pki.KeyECP256)
	ecPEM, _ := pki.MarshalPrivateKeyPEM(ec)
	root := pkitest.NewRoot(t, "Key Parse Root")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    string
		want    string // keyName of the result
		wantErr string
	}{
		{"openssl 3 genrsa (PKCS#8)", readFile(t, "testdata/keys/rsa-pkcs8.pem"), "RSA 2048", ""},
		{"genrsa -traditional (PKCS#1)", readFile(t, "testdata/keys/rsa-pkcs1.pem"), "RSA 2048", ""},
		{"ecparam -genkey (EC PARAMETERS then SEC1)", readFile(t, "testdata/keys/ec-sec1-with-params.pem"), "EC P-256", ""},
		{"genpkey P-384", readFile(t, "testdata/keys/ec-p384-pkcs8.pem"), "EC P-384", ""},
		{"genpkey ed25519", readFile(t, "testdata/keys/ed25519-pkcs8.pem"), "ed25519.PublicKey", ""},
		{"PKCS#1 from Go", pki.MarshalRSAPrivateKeyPEM(rsaKey), "RSA 2048", ""},
		{"certificate then key", pki.EncodeCertificatePEM(root.Certificate) + ecPEM, "EC P-256", ""},
		{"crlf", strings.ReplaceAll(ecPEM, "\n", "\r\n"), "EC P-256", ""},
		{"encrypted PKCS#8", readFile(t, "testdata/keys/encrypted-pkcs8.pem"), "", "encrypted"},
		{"encrypted PKCS#1", readFile(t, "testdata/keys/encrypted-pkcs1.pem"), "", "encrypted"},
		{"certificate only", pki.EncodeCertificatePEM(root.Certificate), "", "no PEM private key found"},
		{"empty", "", "", "no PEM private key found"},
		{"garbage DER", "-----BEGIN PRIVATE KEY-----\naGVsbG8K\n-----END PRIVATE KEY-----\n", "", "PRIVATE KEY block: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := pki.ParsePrivateKeyPEM(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := keyName(key.Public()); got != tt.want {
				t.Errorf("key = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMarshalKeysForCreateKeysAndCertificate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := pki.MarshalRSAPrivateKeyPEM(key)
	if !strings.HasPrefix(priv, "-----BEGIN RSA PRIVATE KEY-----\n") {
		t.Errorf("MarshalRSAPrivateKeyPEM = %.40q, want PKCS#1", priv)
	}
	pub, err := pki.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub, "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf("MarshalPublicKeyPEM = %.40q, want PKIX", pub)
	}
	if _, err := pki.MarshalPublicKeyPEM(struct{}{}); err == nil {
		t.Error("MarshalPublicKeyPEM(struct{}{}) succeeded")
	}
}

func TestCheckPublicKey(t *testing.T) {
	rsa1024, err := pki.ParsePrivateKeyPEM(readFile(t, "testdata/keys/rsa-1024-pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name    string
		pub     crypto.PublicKey
		wantErr string
	}{
		{"rsa 2048", pkitest.NewKey(t, pki.KeyRSA2048).Public(), ""},
		{"ec p256", pkitest.NewKey(t, pki.KeyECP256).Public(), ""},
		{"ec p384", pkitest.NewKey(t, pki.KeyECP384).Public(), ""},
		{"ec p521", p521.Public(), ""},
		{"rsa 1024", rsa1024.Public(), "RSA key of 1024 bits; at least 2048 bits are required"},
		{"ec p224", p224.Public(), "EC P-224 key"},
		{"ed25519", edPub, "Ed25519 key"},
		{"nil", nil, "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pki.CheckPublicKey(tt.pub)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckPublicKey: %v", err)
				}
				return
			}
			if !errors.Is(err, pki.ErrUnsupportedKey) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckPublicKey error = %v, want ErrUnsupportedKey containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckCSRKey(t *testing.T) {
	weak, err := pki.ParsePrivateKeyPEM(readFile(t, "testdata/keys/rsa-1024-pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     crypto.Signer
		wantErr bool
	}{
		{"ec p256", pkitest.NewKey(t, pki.KeyECP256), false},
		{"rsa 1024", weak, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr, err := pki.CreateCSR(tt.key, pkix.Name{CommonName: "dev"})
			if err != nil {
				t.Fatal(err)
			}
			err = pki.CheckCSRKey(csr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckCSRKey = %v, want error %t", err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "check CSR key: ") {
				t.Errorf("error %q lacks the operation prefix", err)
			}
		})
	}
}

func TestCheckKeyMatch(t *testing.T) {
	root := pkitest.NewRoot(t, "Match Root")
	if err := pki.CheckKeyMatch(root.Certificate, root.Key); err != nil {
		t.Errorf("CheckKeyMatch(own key) = %v", err)
	}
	other := pkitest.NewKey(t, pki.KeyRSA2048)
	err := pki.CheckKeyMatch(root.Certificate, other)
	if !errors.Is(err, pki.ErrKeyMismatch) || !strings.Contains(err.Error(), "RSA 2048 private key, EC P-256 certificate key") {
		t.Errorf("CheckKeyMatch(other key) = %v, want ErrKeyMismatch naming both keys", err)
	}
}
