package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
)

// CreateCSR makes a certificate signing request for key with the given
// subject, signed with the algorithm Go chooses for the key (SHA-256 for RSA
// and P-256). It is the `openssl req -new` of the seeds.
func CreateCSR(key crypto.Signer, subject pkix.Name) (*x509.CertificateRequest, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, fmt.Errorf("create CSR: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("create CSR: %w", err)
	}
	return csr, nil
}
