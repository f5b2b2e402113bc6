package pkitool

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

// CARequest asks for a certificate authority: a self-signed root, or, with
// a parent, an intermediate CA the parent signs.
type CARequest struct {
	Subject Subject
	// KeyPath is an existing private key for the CA; "" means a new key of
	// KeyType (zero: [pki.DefaultKeyType]), written to Name.key.
	KeyPath string
	KeyType pki.KeyType
	// Validity is how long the CA is valid; zero means
	// [DefaultRootValidity] for a root and [DefaultIntermediateValidity]
	// for an intermediate, which never outlives its parent.
	Validity time.Duration
	// ParentCertPath and ParentKeyPath are the CA that signs an
	// intermediate; both empty make a root.
	ParentCertPath, ParentKeyPath string
	// PathLen limits, for an intermediate, how many CAs may follow it: 0
	// (the zero value) lets it sign device certificates only; negative sets
	// no limit. A root has no limit.
	PathLen int
	// Output names Name.pem (the certificate), Name.key and, for an
	// intermediate, Name-chain.pem (the certificate, then the parent's
	// file). The default name is "ca".
	Output Output
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// CAResult is what CreateCA made.
type CAResult struct {
	Certificate *x509.Certificate
	ID          string // the certificate ID AWS IoT gives it (SHA-256 of the DER)
	Files       []Written
	Notes       []string
}

// CreateCA makes a root or intermediate CA and writes its certificate and,
// when it generated one, its key. The certificate has basicConstraints
// CA:TRUE and keyUsage keyCertSign and cRLSign, which RegisterCACertificate
// and openssl require.
func CreateCA(req CARequest) (*CAResult, error) {
	res, err := createCA(req)
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	return res, nil
}

func createCA(req CARequest) (*CAResult, error) {
	now := clock(req.Now)
	name, err := req.Subject.Name()
	if err != nil {
		return nil, err
	}
	intermediate := req.ParentCertPath != "" || req.ParentKeyPath != ""
	if req.KeyPath != "" && req.KeyType != "" {
		return nil, errors.New("a key type is for a new key; the existing key has its own")
	}
	paths, err := req.Output.paths("ca", ".pem", ".key", "-chain.pem")
	if err != nil {
		return nil, err
	}
	certPath, keyPath, chainPath := paths[0], paths[1], paths[2]
	if req.KeyPath != "" {
		keyPath = ""
	}
	if !intermediate {
		chainPath = ""
	}
	if err := req.Output.check(certPath, keyPath, chainPath); err != nil {
		return nil, err
	}
	var parent *CA
	if intermediate {
		if parent, err = LoadCA(req.ParentCertPath, req.ParentKeyPath, now); err != nil {
			return nil, fmt.Errorf("parent: %w", err)
		}
	}
	var key crypto.Signer
	if req.KeyPath != "" {
		key, err = loadKey(req.KeyPath)
	} else {
		key, err = pki.GenerateKey(req.KeyType)
	}
	if err != nil {
		return nil, err
	}
	def := DefaultRootValidity
	if intermediate {
		def = DefaultIntermediateValidity
	}
	notBefore, notAfter, err := period(now, req.Validity, def)
	if err != nil {
		return nil, err
	}
	var cert *x509.Certificate
	var notes []string
	if intermediate {
		cert, err = parent.IssueIntermediate(key.Public(), name, req.PathLen, notBefore, notAfter)
		if err == nil {
			notes = appendNote(notes, cappedNote(cert, parent.Certificate, notAfter))
		}
	} else {
		var root *pki.Authority
		if root, err = pki.NewRootCA(name, key, notBefore, notAfter); err == nil {
			cert = root.Certificate
		}
	}
	if err != nil {
		return nil, err
	}

	kind := "root CA certificate "
	if intermediate {
		kind = "intermediate CA certificate "
	}
	var files []file
	if keyPath != "" {
		files = append(files, keyFile(keyPath, key))
	}
	files = append(files, file{path: certPath, pem: pki.EncodeCertificatePEM(cert), what: kind + cert.Subject.String()})
	if chainPath != "" {
		chain := append([]*x509.Certificate{cert}, parent.Chain...)
		files = append(files, file{path: chainPath, pem: pki.EncodeCertificatesPEM(chain), what: chainWhat(chain)})
	}
	written, err := req.Output.write(files)
	if err != nil {
		return nil, err
	}
	return &CAResult{Certificate: cert, ID: pki.CertificateID(cert.Raw), Files: written, Notes: notes}, nil
}

// chainWhat describes a chain file.
func chainWhat(chain []*x509.Certificate) string {
	return fmt.Sprintf("chain of %d certificates, %s first, then its CA", len(chain), chain[0].Subject.String())
}

func appendNote(notes []string, note string) []string {
	if note == "" {
		return notes
	}
	return append(notes, note)
}

func clock(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}
