package pkitool

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

// DeviceCertRequest asks for a device (TLS client) certificate signed by a
// CA: for a CSR the device made, for an existing key, or for a new key.
type DeviceCertRequest struct {
	// CACertPath and CAKeyPath are the signing CA. The certificate file may
	// hold the CA's chain (the CA first), which then goes into the chain
	// file whole.
	CACertPath, CAKeyPath string
	// Subject is the device's subject; it must be empty with CSRPath, whose
	// subject is used.
	Subject Subject
	// CSRPath is a certificate signing request to sign.
	CSRPath string
	// KeyPath is an existing private key to certify.
	KeyPath string
	// KeyType is the type of the key generated when neither CSRPath nor
	// KeyPath is set; zero means [pki.DefaultKeyType].
	KeyType pki.KeyType
	// Validity is how long the certificate is valid; zero means
	// [DefaultDeviceValidity]. It never outlives the CA.
	Validity time.Duration
	// Output names Name.crt (the certificate), Name.key (a generated key)
	// and Name-chain.crt (the certificate, then the CA's file: what a
	// device presents on its first, just-in-time provisioning, connection,
	// as seed 000's deviceCertAndCACert.crt). The default name is "device".
	Output Output
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DeviceCertResult is what IssueDeviceCert made.
type DeviceCertResult struct {
	Certificate *x509.Certificate
	ID          string // the certificate ID AWS IoT will give it
	Files       []Written
	Notes       []string
}

// IssueDeviceCert issues a device certificate (extKeyUsage clientAuth) and
// writes it, its chain file and, when it generated one, its key.
func IssueDeviceCert(req DeviceCertRequest) (*DeviceCertResult, error) {
	res, err := issueDeviceCert(req)
	if err != nil {
		return nil, fmt.Errorf("issue device certificate: %w", err)
	}
	return res, nil
}

func issueDeviceCert(req DeviceCertRequest) (*DeviceCertResult, error) {
	now := clock(req.Now)
	if req.CSRPath != "" && req.KeyPath != "" {
		return nil, errors.New("give a CSR or a key, not both: a CSR carries the device's public key")
	}
	if (req.CSRPath != "" || req.KeyPath != "") && req.KeyType != "" {
		return nil, errors.New("a key type is for a new key; the CSR or the existing key has its own")
	}
	var subject pkix.Name
	if req.CSRPath != "" {
		if !req.Subject.IsZero() {
			return nil, errors.New("the subject comes from the CSR; give no subject attributes with it")
		}
	} else {
		var err error
		if subject, err = req.Subject.Name(); err != nil {
			return nil, err
		}
	}
	paths, err := req.Output.paths("device", ".crt", ".key", "-chain.crt")
	if err != nil {
		return nil, err
	}
	certPath, keyPath, chainPath := paths[0], paths[1], paths[2]
	if req.CSRPath != "" || req.KeyPath != "" {
		keyPath = ""
	}
	if err := req.Output.check(certPath, keyPath, chainPath); err != nil {
		return nil, err
	}
	ca, err := LoadCA(req.CACertPath, req.CAKeyPath, now)
	if err != nil {
		return nil, err
	}

	var pub crypto.PublicKey
	var key crypto.Signer
	if req.CSRPath != "" {
		csr, err := loadCSR(req.CSRPath)
		if err != nil {
			return nil, err
		}
		pub, subject = csr.PublicKey, csr.Subject
		subject.ExtraNames = subject.Names // keep every attribute, dnQualifier included, in the CSR's order
	} else {
		var generated bool
		if key, generated, err = deviceKey(req.KeyPath, req.KeyType); err != nil {
			return nil, err
		}
		pub = key.Public()
		if !generated {
			key = nil
		}
	}
	notBefore, notAfter, err := period(now, req.Validity, DefaultDeviceValidity)
	if err != nil {
		return nil, err
	}
	cert, err := ca.IssueClient(pub, subject, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	notes := appendNote(nil, cappedNote(cert, ca.Certificate, notAfter))
	if cert.Subject.CommonName == "" {
		notes = append(notes, "the certificate has no CN: templates that name the thing after AWS::IoT::Certificate::CommonName (AWS's JITP walkthrough's do) cannot provision it")
	}

	var files []file
	if key != nil {
		files = append(files, keyFile(keyPath, key))
	}
	chain := append([]*x509.Certificate{cert}, ca.Chain...)
	files = append(files,
		file{path: certPath, pem: pki.EncodeCertificatePEM(cert), what: "device certificate " + cert.Subject.String()},
		file{path: chainPath, pem: pki.EncodeCertificatesPEM(chain), what: chainWhat(chain)},
	)
	written, err := req.Output.write(files)
	if err != nil {
		return nil, err
	}
	return &DeviceCertResult{Certificate: cert, ID: pki.CertificateID(cert.Raw), Files: written, Notes: notes}, nil
}
