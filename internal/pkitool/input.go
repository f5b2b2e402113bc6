package pkitool

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

// CA is a certificate authority read from files: its certificate and key,
// and the chain its certificate file holds (the CA first, then the CAs above
// it, if the file has them).
type CA struct {
	*pki.Authority
	Chain []*x509.Certificate
}

// LoadCA reads a CA certificate file and its private key file, as
// `iotcore pki ca create` or openssl write them (PEM; keys PKCS#8, PKCS#1 or
// SEC1). The certificate file may hold a chain, the CA first. The CA must be
// a CA, own the key, and be valid at now.
func LoadCA(certPath, keyPath string, now time.Time) (*CA, error) {
	if certPath == "" || keyPath == "" {
		return nil, errors.New("load CA: both the CA certificate and its private key are required")
	}
	chain, err := loadChain(certPath)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	key, err := loadKey(keyPath)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	cert := chain[0]
	if err := pki.CheckCA(cert); err != nil {
		return nil, fmt.Errorf("load CA %s: %w", certPath, err)
	}
	if err := pki.CheckKeyMatch(cert, key); err != nil {
		return nil, fmt.Errorf("load CA: %s is not the key of %s: %w", keyPath, certPath, err)
	}
	if err := pki.CheckValidAt(cert, now); err != nil {
		return nil, fmt.Errorf("load CA %s: %w", certPath, err)
	}
	return &CA{Authority: &pki.Authority{Certificate: cert, Key: key}, Chain: chain}, nil
}

func loadChain(path string) ([]*x509.Certificate, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	chain, err := pki.ParseCertificateChainPEM(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return chain, nil
}

func loadKey(path string) (crypto.Signer, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := pki.ParsePrivateKeyPEM(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// loadDeviceKey reads an existing key for a device certificate or CSR; AWS
// IoT must accept its type and size.
func loadDeviceKey(path string) (crypto.Signer, error) {
	key, err := loadKey(path)
	if err != nil {
		return nil, err
	}
	if err := pki.CheckPublicKey(key.Public()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// loadCSR reads a certificate signing request, checking its signature and
// that AWS IoT would accept its key.
func loadCSR(path string) (*x509.CertificateRequest, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	csr, err := pki.ParseCSRPEM(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := pki.CheckCSRKey(csr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return csr, nil
}

// describeKey names a key for messages: "EC P-256", "RSA 2048".
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", pub)
}
