package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
)

// CertificateID returns the AWS IoT certificate ID of a DER-encoded
// certificate: the lower-case hex SHA-256 of the DER bytes, the same value as
// `openssl x509 -noout -fingerprint -sha256` with the colons removed and
// lower-cased. CA certificate IDs are computed the same way.
func CertificateID(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// SubjectKey returns a fixed-length key for c's subject name: the hex SHA-256
// of its DER encoding (RawSubject). Index CA certificates by it and look up a
// device certificate's candidate issuers with [IssuerKey]; then confirm each
// candidate with [SignedBy], since names prove nothing.
func SubjectKey(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubject)
	return hex.EncodeToString(sum[:])
}

// IssuerKey returns the key of c's issuer name, comparable with the
// [SubjectKey] of the CA that may have signed it.
func IssuerKey(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawIssuer)
	return hex.EncodeToString(sum[:])
}
