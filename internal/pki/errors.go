package pki

import "errors"

// Sentinel errors. Functions wrap them with the detail (what was found, what
// was expected), so test with errors.Is and show the whole message.
var (
	// ErrNotCA: the certificate cannot act as a certificate authority
	// (no basicConstraints CA:TRUE, or keyUsage without keyCertSign).
	ErrNotCA = errors.New("certificate is not a CA certificate")

	// ErrNotSignedByCA: the certificate's issuer is not the CA's subject, or
	// its signature does not verify with the CA's public key.
	ErrNotSignedByCA = errors.New("certificate is not signed by the CA")

	// ErrRegistrationCodeMismatch: a verification certificate whose common
	// name is not the registration code.
	ErrRegistrationCodeMismatch = errors.New("verification certificate common name does not match the registration code")

	// ErrUnsupportedSignature: a signature made with an algorithm Go does not
	// verify (SHA-1, MD5, DSA, unknown).
	ErrUnsupportedSignature = errors.New("unsupported signature algorithm")

	// ErrUnsupportedKey: a public key AWS IoT does not accept (RSA below
	// 2048 bits, EC curves other than P-256, P-384 and P-521, Ed25519, DSA).
	ErrUnsupportedKey = errors.New("unsupported key")

	// ErrKeyMismatch: a private key that does not belong to the certificate.
	ErrKeyMismatch = errors.New("private key does not match the certificate")

	// ErrExpired: the certificate's notAfter is in the past.
	ErrExpired = errors.New("certificate has expired")

	// ErrNotYetValid: the certificate's notBefore is in the future.
	ErrNotYetValid = errors.New("certificate is not yet valid")
)
