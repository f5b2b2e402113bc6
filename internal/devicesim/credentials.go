package devicesim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/iotcore/iotcore/internal/pki"
)

// LoadCredentials reads what a device holds: the CA file it trusts the
// server with (iotcore's ca.pem, or AmazonRootCA1.pem for AWS; "" returns a
// nil pool, which means the system's roots), its certificate file (the
// certificate, optionally followed by its CA, as a first JITP connection
// presents it) and its private key (PKCS#8, PKCS#1 or SEC1 PEM).
func LoadCredentials(caFile, certFile, keyFile string) (*x509.CertPool, tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return nil, tls.Certificate{}, errors.New("load device credentials: the certificate file and the key file are both required")
	}
	var pool *x509.CertPool
	if caFile != "" {
		caPEM, err := os.ReadFile(caFile)
		if err != nil {
			return nil, tls.Certificate{}, fmt.Errorf("load device credentials: %w", err)
		}
		cas, err := pki.ParseCertificateChainPEM(string(caPEM))
		if err != nil {
			return nil, tls.Certificate{}, fmt.Errorf("load device credentials: server CA file %s: %w", caFile, err)
		}
		pool = x509.NewCertPool()
		for _, c := range cas {
			pool.AddCert(c)
		}
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("load device credentials: %w", err)
	}
	chain, err := pki.ParseCertificateChainPEM(string(certPEM))
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("load device credentials: certificate file %s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("load device credentials: %w", err)
	}
	key, err := pki.ParsePrivateKeyPEM(string(keyPEM))
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("load device credentials: key file %s: %w", keyFile, err)
	}
	if err := pki.CheckKeyMatch(chain[0], key); err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("load device credentials: %s is not the key of the first certificate of %s: %w", keyFile, certFile, err)
	}
	cert := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return pool, cert, nil
}
