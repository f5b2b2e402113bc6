// Package pki is iotcore's X.509 toolbox: certificate IDs, PEM parsing and
// encoding, the checks AWS IoT Core makes when a CA or a device certificate is
// registered, and issuing (root and intermediate CAs, server certificates,
// client certificates, verification certificates) for the server's own CAs and
// for the `iotcore pki` tool.
//
// It depends on the standard library only, never logs, and returns errors that
// say what was found and what was expected. It knows nothing of the registry:
// callers decide which CA to try and map errors to AWS exceptions. The
// sentinel errors are meant for that mapping:
//
//   - [ErrRegistrationCodeMismatch]: RegistrationCodeValidationException.
//   - [ErrNotSignedByCA], [ErrNotCA], [ErrUnsupportedSignature],
//     [ErrUnsupportedKey], [ErrExpired], [ErrNotYetValid]:
//     CertificateValidationException.
//
// # Trust decisions
//
// "Signed by" always means by signature: the certificate's issuer name must
// equal the CA's subject byte for byte (as Go's own chain builder compares
// them) and the signature must verify with the CA's public key. A second CA
// with the same subject name and a different key does not sign anything the
// first one signed. See [SignedBy].
//
// Go does not verify SHA-1 (or MD5) signatures on certificates, so a device or
// verification certificate signed with SHA-1 (openssl's "-sha1", or very old
// defaults) is rejected with [ErrUnsupportedSignature] and a message that says
// to reissue it with SHA-256. The self-signature of a root CA is never checked
// (a trust anchor is trusted by registration, not by its own signature), so a
// SHA-1 self-signed root still works as long as what it signs uses SHA-256 or
// better. CSR self-signatures made with SHA-1 are accepted.
//
// # Keys
//
// Keys are generated with crypto/rand (since Go 1.26 the standard library
// ignores any other source for key generation, so randomness is not injected
// here; time is). Private keys are written as PKCS#8 and only through
// [WritePrivateKeyFile] or [WriteFileAtomic] with mode 0600; keys are read in
// PKCS#8, PKCS#1 and SEC1 form, as openssl writes them.
package pki
