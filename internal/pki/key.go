package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// KeyType names a kind of key pair that [GenerateKey] makes. The zero value
// means [DefaultKeyType].
type KeyType string

// Key types. ECDSA P-256 is the default: fast, small, and accepted by AWS IoT,
// mosquitto, awscrt and mbedTLS devices.
const (
	KeyECP256  KeyType = "ec-p256"
	KeyECP384  KeyType = "ec-p384"
	KeyRSA2048 KeyType = "rsa-2048"
	KeyRSA3072 KeyType = "rsa-3072"
	KeyRSA4096 KeyType = "rsa-4096"

	DefaultKeyType = KeyECP256
)

// KeyTypes lists the key types GenerateKey accepts, default first, for flag
// help and validation messages.
func KeyTypes() []KeyType {
	return []KeyType{KeyECP256, KeyECP384, KeyRSA2048, KeyRSA3072, KeyRSA4096}
}

// ParseKeyType validates a key type name as a user typed it (case-insensitive);
// "" gives [DefaultKeyType].
func ParseKeyType(s string) (KeyType, error) {
	if s == "" {
		return DefaultKeyType, nil
	}
	t := KeyType(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range KeyTypes() {
		if t == k {
			return t, nil
		}
	}
	return "", fmt.Errorf("parse key type: %q is not one of %v", s, KeyTypes())
}

// GenerateKey makes a new private key of type t (the zero value means
// [DefaultKeyType]) from crypto/rand.
func GenerateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case "", KeyECP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyECP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case KeyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("generate key: unknown key type %q (want one of %v)", t, KeyTypes())
}

// MarshalPrivateKeyPEM returns k as an unencrypted PKCS#8 "PRIVATE KEY" PEM
// block, which openssl 1.0 and later, mosquitto, awscrt and Go all read.
func MarshalPrivateKeyPEM(k crypto.Signer) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", fmt.Errorf("marshal private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: blockPrivateKey, Bytes: der})), nil
}

// MarshalRSAPrivateKeyPEM returns k as a PKCS#1 "RSA PRIVATE KEY" PEM block,
// the form AWS IoT's CreateKeysAndCertificate returns in keyPair.PrivateKey.
func MarshalRSAPrivateKeyPEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: blockRSAPrivateKey, Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// MarshalPublicKeyPEM returns pub as a PKIX "PUBLIC KEY" PEM block, the form
// of keyPair.PublicKey in CreateKeysAndCertificate.
func MarshalPublicKeyPEM(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("marshal public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: blockPublicKey, Bytes: der})), nil
}

// ParsePrivateKeyPEM returns the first private key in text: PKCS#8
// "PRIVATE KEY" (openssl 3 genrsa, genpkey), PKCS#1 "RSA PRIVATE KEY"
// (openssl 1.x genrsa, -traditional) or SEC1 "EC PRIVATE KEY" (openssl
// ecparam -genkey, which writes an "EC PARAMETERS" block first). Other blocks,
// such as certificates in a combined file, are skipped. Encrypted keys are
// refused with a message saying how to decrypt them.
func ParsePrivateKeyPEM(text string) (crypto.Signer, error) {
	blocks, err := decodePEM(text, -1)
	if err != nil {
		return nil, fmt.Errorf("parse private key PEM: %w", err)
	}
	for _, b := range blocks {
		var (
			key any
			err error
		)
		switch b.Type {
		case blockPrivateKey:
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case blockRSAPrivateKey, blockECPrivateKey:
			if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, errors.New("parse private key PEM: the key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
			}
			if b.Type == blockRSAPrivateKey {
				key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
			} else {
				key, err = x509.ParseECPrivateKey(b.Bytes)
			}
		case blockEncryptedKey:
			return nil, errors.New("parse private key PEM: the key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse private key PEM: %s block: %w", b.Type, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("parse private key PEM: %T is not a signing key", key)
		}
		return s, nil
	}
	return nil, errors.New("parse private key PEM: no PEM private key found")
}

// CheckPublicKey reports whether AWS IoT would accept pub in a device
// certificate or CSR: RSA of at least 2048 bits, or ECDSA on P-256, P-384 or
// P-521. The error wraps [ErrUnsupportedKey] and names what was found.
func CheckPublicKey(pub crypto.PublicKey) error {
	if err := checkPublicKey(pub); err != nil {
		return fmt.Errorf("check public key: %w", err)
	}
	return nil
}

func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 {
			return fmt.Errorf("%w: RSA key of %d bits; at least 2048 bits are required", ErrUnsupportedKey, n)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
	}
	return fmt.Errorf("%w: %s key; use RSA (2048 bits or more) or EC P-256, P-384 or P-521", ErrUnsupportedKey, describeKey(pub))
}

// CheckCSRKey applies [CheckPublicKey] to the key of a certificate signing
// request, as CreateCertificateFromCsr does.
func CheckCSRKey(csr *x509.CertificateRequest) error {
	if err := checkPublicKey(csr.PublicKey); err != nil {
		return fmt.Errorf("check CSR key: %w", err)
	}
	return nil
}

// CheckKeyMatch returns an error wrapping [ErrKeyMismatch] unless key is the
// private half of c's public key.
func CheckKeyMatch(c *x509.Certificate, key crypto.Signer) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(c.PublicKey) {
		return fmt.Errorf("check key match: %w: %s private key, %s certificate key (subject %q)",
			ErrKeyMismatch, describeKey(key.Public()), describeKey(c.PublicKey), c.Subject.String())
	}
	return nil
}

// describeKey names a public key for messages: "RSA 2048", "EC P-256".
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return "EC (no curve)"
		}
		return "EC " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case nil:
		return "no"
	}
	return fmt.Sprintf("%T", pub)
}
