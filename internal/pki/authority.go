package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Default lifetimes of what iotcore issues for itself.
const (
	RootValidity   = 10 * 365 * 24 * time.Hour // root CAs: about ten years
	ServerValidity = 365 * 24 * time.Hour      // server certificates: one year

	// Backdate is how far before "now" the certificates iotcore issues for
	// itself start, so that a peer whose clock is a little behind accepts them.
	Backdate = time.Hour
)

// Authority is a CA certificate and its private key, able to issue
// certificates. Every certificate it issues has a random positive 128-bit
// serial number, a subjectKeyIdentifier (RFC 7093 method 1), an
// authorityKeyIdentifier when the CA has a subjectKeyIdentifier, the
// signature algorithm Go chooses for the CA key (SHA-256 for RSA and P-256,
// SHA-384 for P-384), and a notAfter no later than the CA's own.
type Authority struct {
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// NewAuthority pairs a CA certificate with its key, checking that the
// certificate can be a CA ([CheckCA]) and that the key is its key. Use it for
// CAs made elsewhere, such as with openssl.
func NewAuthority(cert *x509.Certificate, key crypto.Signer) (*Authority, error) {
	if err := CheckCA(cert); err != nil {
		return nil, fmt.Errorf("new authority: %w", err)
	}
	if err := CheckKeyMatch(cert, key); err != nil {
		return nil, fmt.Errorf("new authority: %w", err)
	}
	return &Authority{Certificate: cert, Key: key}, nil
}

// ParseAuthorityPEM parses a CA certificate and its private key (any form
// [ParsePrivateKeyPEM] reads) and pairs them with [NewAuthority].
func ParseAuthorityPEM(certPEM, keyPEM string) (*Authority, error) {
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	return NewAuthority(cert, key)
}

// NewRootCA makes a self-signed root CA for key: version 3, basicConstraints
// CA:TRUE with no path length limit, keyUsage keyCertSign and cRLSign.
func NewRootCA(subject pkix.Name, key crypto.Signer, notBefore, notAfter time.Time) (*Authority, error) {
	if len(subject.ToRDNSequence()) == 0 {
		return nil, errors.New("new root CA: the subject is empty")
	}
	tmpl, err := template(key.Public(), subject, notBefore, notAfter)
	if err != nil {
		return nil, fmt.Errorf("new root CA: %w", err)
	}
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = true
	tmpl.MaxPathLen = -1
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("new root CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new root CA: %w", err)
	}
	return &Authority{Certificate: cert, Key: key}, nil
}

// IssueIntermediate issues a CA certificate for pub under a. maxPathLen
// limits how many further CAs may follow it: 0 lets it sign only end-entity
// certificates (the usual factory setup: root, then one issuing CA, then
// devices); a negative value sets no limit.
func (a *Authority) IssueIntermediate(pub crypto.PublicKey, subject pkix.Name, maxPathLen int, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if len(subject.ToRDNSequence()) == 0 {
		return nil, errors.New("issue intermediate CA: the subject is empty")
	}
	tmpl, err := a.template(pub, subject, notBefore, notAfter)
	if err != nil {
		return nil, fmt.Errorf("issue intermediate CA: %w", err)
	}
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	if maxPathLen < 0 {
		tmpl.MaxPathLen = -1
	} else {
		tmpl.MaxPathLen = maxPathLen
		tmpl.MaxPathLenZero = maxPathLen == 0
	}
	return a.sign(tmpl, pub, "issue intermediate CA")
}

// IssueServer issues a TLS server certificate for pub, valid for hosts (DNS
// names, wildcards such as *.example.com, IPv4 and IPv6 addresses; see
// [ParseHosts]). The subject CN is the first host, for old clients that still
// read it.
func (a *Authority) IssueServer(pub crypto.PublicKey, hosts []string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	hs, err := ParseHosts(hosts)
	if err != nil {
		return nil, fmt.Errorf("issue server certificate: %w", err)
	}
	var subject pkix.Name
	if len(hs.first) <= 64 { // RFC 5280 ub-common-name
		subject.CommonName = hs.first
	}
	tmpl, err := a.template(pub, subject, notBefore, notAfter)
	if err != nil {
		return nil, fmt.Errorf("issue server certificate: %w", err)
	}
	tmpl.DNSNames = hs.DNSNames
	tmpl.IPAddresses = hs.IPAddresses
	tmpl.KeyUsage = leafKeyUsage(pub)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tmpl.BasicConstraintsValid = true
	return a.sign(tmpl, pub, "issue server certificate")
}

// IssueClient issues a TLS client (device) certificate for pub with the given
// subject: extKeyUsage clientAuth, keyUsage digitalSignature (and
// keyEncipherment for RSA keys). pub must be a key AWS IoT accepts
// ([CheckPublicKey]). This is what CreateKeysAndCertificate and
// CreateCertificateFromCsr return (AWS uses the subject CN=AWS IoT Certificate
// for the former).
func (a *Authority) IssueClient(pub crypto.PublicKey, subject pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, fmt.Errorf("issue client certificate: %w", err)
	}
	tmpl, err := a.template(pub, subject, notBefore, notAfter)
	if err != nil {
		return nil, fmt.Errorf("issue client certificate: %w", err)
	}
	tmpl.KeyUsage = leafKeyUsage(pub)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.BasicConstraintsValid = true
	return a.sign(tmpl, pub, "issue client certificate")
}

// IssueVerification issues the verification certificate that proves to
// RegisterCACertificate that the caller holds a's key: subject CN is the
// registration code (see [CheckVerificationCertificate]).
func (a *Authority) IssueVerification(pub crypto.PublicKey, registrationCode string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if registrationCode == "" {
		return nil, errors.New("issue verification certificate: the registration code is empty")
	}
	tmpl, err := a.template(pub, pkix.Name{CommonName: registrationCode}, notBefore, notAfter)
	if err != nil {
		return nil, fmt.Errorf("issue verification certificate: %w", err)
	}
	tmpl.KeyUsage = leafKeyUsage(pub)
	tmpl.BasicConstraintsValid = true
	return a.sign(tmpl, pub, "issue verification certificate")
}

// template starts a certificate issued by a, with notAfter capped at the
// CA's own notAfter: a certificate that outlives its issuer fails to verify
// from that day anyway, and capping keeps `validity` requests simple.
func (a *Authority) template(pub crypto.PublicKey, subject pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if a == nil || a.Certificate == nil || a.Key == nil {
		return nil, errors.New("the authority has no certificate or no key")
	}
	if notAfter.After(a.Certificate.NotAfter) {
		notAfter = a.Certificate.NotAfter
	}
	return template(pub, subject, notBefore, notAfter)
}

func template(pub crypto.PublicKey, subject pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("notAfter %s is not after notBefore %s", notAfter.UTC().Format(time.RFC3339), notBefore.UTC().Format(time.RFC3339))
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	skid, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    notBefore.UTC(),
		NotAfter:     notAfter.UTC(),
		SubjectKeyId: skid,
	}, nil
}

func (a *Authority) sign(tmpl *x509.Certificate, pub crypto.PublicKey, op string) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Certificate, pub, a.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return cert, nil
}

func leafKeyUsage(pub crypto.PublicKey) x509.KeyUsage {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	return x509.KeyUsageDigitalSignature
}

var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// randomSerial returns a uniformly random serial number in [1, 2^128).
func randomSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID computes the key identifier of RFC 7093 section 2 method 1:
// the leftmost 160 bits of the SHA-256 of the subjectPublicKey BIT STRING.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("subject key identifier: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("subject key identifier: %w", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}
