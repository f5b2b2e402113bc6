package pkitool

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/iotcore/iotcore/internal/pki"
)

// CSRRequest asks for a certificate signing request, the `openssl req -new`
// of the seeds, for a device whose key never leaves it.
type CSRRequest struct {
	Subject Subject
	// KeyPath is an existing private key to sign the request with; "" means
	// a new key of KeyType, written to Name.key.
	KeyPath string
	KeyType pki.KeyType
	// Output names Name.csr (and Name.key); the default name is "device".
	Output Output
}

// CSRResult is what NewCSR made.
type CSRResult struct {
	CSR   *x509.CertificateRequest
	Files []Written
}

// NewCSR makes a certificate signing request and writes it as PEM (mode
// 0644), with its new key if it generated one.
func NewCSR(req CSRRequest) (*CSRResult, error) {
	name, err := req.Subject.Name()
	if err != nil {
		return nil, fmt.Errorf("new CSR: %w", err)
	}
	if req.KeyPath != "" && req.KeyType != "" {
		return nil, errors.New("new CSR: a key type is for a new key; the existing key has its own")
	}
	paths, err := req.Output.paths("device", ".csr", ".key")
	if err != nil {
		return nil, fmt.Errorf("new CSR: %w", err)
	}
	csrPath, keyPath := paths[0], paths[1]
	if req.KeyPath != "" {
		keyPath = ""
	}
	if err := req.Output.check(csrPath, keyPath); err != nil {
		return nil, fmt.Errorf("new CSR: %w", err)
	}
	key, generated, err := deviceKey(req.KeyPath, req.KeyType)
	if err != nil {
		return nil, fmt.Errorf("new CSR: %w", err)
	}
	csr, err := pki.CreateCSR(key, name)
	if err != nil {
		return nil, fmt.Errorf("new CSR: %w", err)
	}
	var files []file
	if generated {
		files = append(files, keyFile(keyPath, key))
	}
	files = append(files, file{path: csrPath, pem: pki.EncodeCSRPEM(csr), what: "certificate signing request " + csr.Subject.String()})
	written, err := req.Output.write(files)
	if err != nil {
		return nil, fmt.Errorf("new CSR: %w", err)
	}
	return &CSRResult{CSR: csr, Files: written}, nil
}
