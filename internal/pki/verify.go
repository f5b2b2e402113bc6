package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CheckCA reports whether c may act as a certificate authority, the check
// RegisterCACertificate makes before anything else. Accepted are:
//
//   - version 3 certificates with basicConstraints CA:TRUE and, when a
//     keyUsage extension is present, keyCertSign in it (RFC 5280 4.2.1.3 and
//     4.2.1.9; openssl's v3_ca, `openssl req -x509`, seed 000's -extfile);
//   - version 1 certificates that are self-signed (issuer equals subject), as
//     made by `openssl x509 -req -signkey` without -extfile. OpenSSL treats
//     such a certificate as a CA, and Go's TLS stack accepts it as a root;
//     refusing it would break older openssl recipes for no gain in security,
//     because a root is trusted by being registered, not by its extensions.
//
// Not checked: validity dates (see [CheckValidAt]) and the root's own
// self-signature. The error wraps [ErrNotCA].
func CheckCA(c *x509.Certificate) error {
	if c.Version < 3 {
		if !bytes.Equal(c.RawIssuer, c.RawSubject) {
			return fmt.Errorf("check CA: %w: %q is a version %d certificate that is not self-signed; a CA must be version 3 with basicConstraints CA:TRUE, or a self-signed version 1 root", ErrNotCA, c.Subject.String(), c.Version)
		}
		return nil
	}
	if !c.BasicConstraintsValid {
		return fmt.Errorf("check CA: %w: %q has no basicConstraints extension; issue it with basicConstraints=CA:TRUE (openssl: -extensions v3_ca)", ErrNotCA, c.Subject.String())
	}
	if !c.IsCA {
		return fmt.Errorf("check CA: %w: %q has basicConstraints CA:FALSE", ErrNotCA, c.Subject.String())
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("check CA: %w: %q has a keyUsage extension without keyCertSign", ErrNotCA, c.Subject.String())
	}
	return nil
}

// SignedBy reports whether ca signed cert: cert's issuer name equals ca's
// subject name byte for byte, ca may sign certificates (see
// [x509.Certificate.CheckSignatureFrom]), and the signature verifies with ca's
// public key. Name equality alone is never enough. Use [CheckSignedBy] for the
// reason when the answer is no.
//
// SignedBy is on the connect path (choosing the CA of an unknown device
// certificate); its cost is one signature verification, plus nothing when the
// names differ.
func SignedBy(cert, ca *x509.Certificate) bool {
	return bytes.Equal(cert.RawIssuer, ca.RawSubject) && cert.CheckSignatureFrom(ca) == nil
}

// CheckSignedBy is [SignedBy] with a reason. The error wraps
// [ErrNotSignedByCA] when the issuer name differs or the signature does not
// verify, [ErrNotCA] when ca may not sign certificates, and
// [ErrUnsupportedSignature] when cert is signed with SHA-1, MD5 or another
// algorithm Go does not verify.
func CheckSignedBy(cert, ca *x509.Certificate) error {
	if err := checkSignedBy(cert, ca); err != nil {
		return fmt.Errorf("check signature: %w", err)
	}
	return nil
}

func checkSignedBy(cert, ca *x509.Certificate) error {
	if !bytes.Equal(cert.RawIssuer, ca.RawSubject) {
		return fmt.Errorf("%w: its issuer %q is not the CA's subject %q", ErrNotSignedByCA, cert.Issuer.String(), ca.Subject.String())
	}
	err := cert.CheckSignatureFrom(ca)
	if err == nil {
		return nil
	}
	var insecure x509.InsecureAlgorithmError
	var constraint x509.ConstraintViolationError
	switch {
	case errors.As(err, &insecure):
		return fmt.Errorf("%w: the certificate is signed with %v, which Go does not verify; reissue it with SHA-256 (openssl: -sha256)", ErrUnsupportedSignature, x509.SignatureAlgorithm(insecure))
	case errors.Is(err, x509.ErrUnsupportedAlgorithm):
		return fmt.Errorf("%w: the certificate is signed with %v: %v", ErrUnsupportedSignature, cert.SignatureAlgorithm, err)
	case errors.As(err, &constraint):
		return fmt.Errorf("%w: %q may not sign certificates (basicConstraints or keyUsage)", ErrNotCA, ca.Subject.String())
	}
	return fmt.Errorf("%w: the signature does not verify with the public key of %q (same name, different key?): %v", ErrNotSignedByCA, ca.Subject.String(), err)
}

// CheckVerificationCertificate checks the proof of possession that
// RegisterCACertificate asks for in DEFAULT mode: a certificate whose subject
// common name is the registration code, signed by the CA being registered.
//
// The common name is compared with the code after trimming blanks from both,
// ignoring case: codes are hex, which AWS writes in lower case, and a code
// typed in upper case is the same number. When the subject has several common
// names, any of them may match. An error wraps [ErrRegistrationCodeMismatch]
// (checked first) or one of the errors of [CheckSignedBy]. Call [CheckCA] on
// ca first; validity dates are not checked here (see [CheckValidAt]).
func CheckVerificationCertificate(ca, verification *x509.Certificate, registrationCode string) error {
	code := strings.TrimSpace(registrationCode)
	if code == "" {
		return fmt.Errorf("check verification certificate: %w: the registration code is empty", ErrRegistrationCodeMismatch)
	}
	cns := commonNames(verification)
	matched := false
	for _, cn := range cns {
		if strings.EqualFold(strings.TrimSpace(cn), code) {
			matched = true
			break
		}
	}
	if !matched {
		found := "it has no common name"
		if len(cns) > 0 {
			found = fmt.Sprintf("its common name is %q", strings.Join(cns, `", "`))
		}
		return fmt.Errorf("check verification certificate: %w: %s; put the registration code (aws iot get-registration-code) in the CN of the CSR", ErrRegistrationCodeMismatch, found)
	}
	if err := checkSignedBy(verification, ca); err != nil {
		return fmt.Errorf("check verification certificate: %w", err)
	}
	return nil
}

var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// commonNames returns every CN attribute of c's subject, in order (the
// parsed Subject.CommonName keeps only the last).
func commonNames(c *x509.Certificate) []string {
	var cns []string
	for _, atv := range c.Subject.Names {
		if atv.Type.Equal(oidCommonName) {
			if s, ok := atv.Value.(string); ok {
				cns = append(cns, s)
			}
		}
	}
	return cns
}

// CheckValidAt returns an error wrapping [ErrExpired] or [ErrNotYetValid]
// unless now lies within c's validity period (both ends inclusive, as in
// RFC 5280 4.1.2.5).
func CheckValidAt(c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) {
		return fmt.Errorf("check validity: %w: %q is valid from %s (now %s)", ErrNotYetValid, c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("check validity: %w: %q expired at %s (now %s)", ErrExpired, c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
