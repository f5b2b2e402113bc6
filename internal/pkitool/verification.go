package pkitool

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

// VerificationRequest asks for the verification certificate that proves to
// RegisterCACertificate that the caller holds the CA's key: its subject CN
// is the registration code (`aws iot get-registration-code`), and the CA
// signs it.
type VerificationRequest struct {
	CACertPath, CAKeyPath string
	RegistrationCode      string
	// Validity is how long the certificate is valid; zero means
	// [DefaultVerificationValidity].
	Validity time.Duration
	// Output names Name.crt; the default name is "verification". The
	// certificate's key is not written: nobody needs it.
	Output Output
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// VerificationResult is what IssueVerificationCert made.
type VerificationResult struct {
	Certificate *x509.Certificate
	Files       []Written
}

// IssueVerificationCert issues a verification certificate and writes it.
func IssueVerificationCert(req VerificationRequest) (*VerificationResult, error) {
	now := clock(req.Now)
	paths, err := req.Output.paths("verification", ".crt")
	if err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	if err := req.Output.check(paths...); err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	ca, err := LoadCA(req.CACertPath, req.CAKeyPath, now)
	if err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	cert, err := verificationCert(ca, req.RegistrationCode, req.Validity, now)
	if err != nil {
		return nil, err
	}
	written, err := req.Output.write([]file{{path: paths[0], pem: pki.EncodeCertificatePEM(cert), what: "verification certificate " + cert.Subject.String()}})
	if err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	return &VerificationResult{Certificate: cert, Files: written}, nil
}

// verificationCert issues a verification certificate for a new key, which
// is then thrown away, and checks it as the server will.
func verificationCert(ca *CA, code string, validity time.Duration, now time.Time) (*x509.Certificate, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, errors.New("issue verification certificate: no registration code (aws iot get-registration-code)")
	}
	key, err := pki.GenerateKey(pki.DefaultKeyType)
	if err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	notBefore, notAfter, err := period(now, validity, DefaultVerificationValidity)
	if err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	cert, err := ca.IssueVerification(key.Public(), code, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	if err := pki.CheckVerificationCertificate(ca.Certificate, cert, code); err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	return cert, nil
}
