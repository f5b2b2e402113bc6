package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// PEM block types.
const (
	blockCertificate    = "CERTIFICATE"
	blockCSR            = "CERTIFICATE REQUEST"
	blockCSRLegacy      = "NEW CERTIFICATE REQUEST" // old openssl, Windows certreq
	blockPrivateKey     = "PRIVATE KEY"
	blockRSAPrivateKey  = "RSA PRIVATE KEY"
	blockECPrivateKey   = "EC PRIVATE KEY"
	blockEncryptedKey   = "ENCRYPTED PRIVATE KEY"
	blockPublicKey      = "PUBLIC KEY"
	pemBeginMarker      = "-----BEGIN"
	errNoPEMCertificate = "no PEM certificate found"
)

// ParseCertificatePEM parses the first PEM block of text, which must be a
// CERTIFICATE. Text before the block (openssl's "Certificate:" dumps, bag
// attributes), indentation, trailing blanks and \r\n line ends are tolerated;
// later blocks are ignored (use [ParseCertificateChainPEM] for them).
func ParseCertificatePEM(text string) (*x509.Certificate, error) {
	blocks, err := decodePEM(text, 1)
	if err != nil {
		return nil, fmt.Errorf("parse certificate PEM: %w", err)
	}
	if len(blocks) == 0 {
		return nil, errors.New("parse certificate PEM: " + errNoPEMCertificate)
	}
	c, err := parseCertificateBlock(blocks[0])
	if err != nil {
		return nil, fmt.Errorf("parse certificate PEM: %w", err)
	}
	return c, nil
}

// ParseCertificateChainPEM parses every PEM block of text, in order; each
// must be a CERTIFICATE (a private key pasted into a chain is an error, not
// something to skip silently). It does not check that the certificates chain.
func ParseCertificateChainPEM(text string) ([]*x509.Certificate, error) {
	blocks, err := decodePEM(text, -1)
	if err != nil {
		return nil, fmt.Errorf("parse certificate chain PEM: %w", err)
	}
	if len(blocks) == 0 {
		return nil, errors.New("parse certificate chain PEM: " + errNoPEMCertificate)
	}
	chain := make([]*x509.Certificate, 0, len(blocks))
	for i, b := range blocks {
		c, err := parseCertificateBlock(b)
		if err != nil {
			return nil, fmt.Errorf("parse certificate chain PEM: block %d: %w", i+1, err)
		}
		chain = append(chain, c)
	}
	return chain, nil
}

func parseCertificateBlock(b *pem.Block) (*x509.Certificate, error) {
	if b.Type != blockCertificate {
		return nil, fmt.Errorf("PEM block is %q, not CERTIFICATE", b.Type)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCSRPEM parses the first PEM block of text, which must be a
// CERTIFICATE REQUEST (or the legacy NEW CERTIFICATE REQUEST), and checks the
// request's self-signature, which proves possession of the private key.
func ParseCSRPEM(text string) (*x509.CertificateRequest, error) {
	blocks, err := decodePEM(text, 1)
	if err != nil {
		return nil, fmt.Errorf("parse CSR PEM: %w", err)
	}
	if len(blocks) == 0 {
		return nil, errors.New("parse CSR PEM: no PEM certificate request found")
	}
	b := blocks[0]
	if b.Type != blockCSR && b.Type != blockCSRLegacy {
		return nil, fmt.Errorf("parse CSR PEM: PEM block is %q, not CERTIFICATE REQUEST", b.Type)
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CSR PEM: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("parse CSR PEM: signature: %w", err)
	}
	return csr, nil
}

// EncodeCertificatePEM returns c as a PEM CERTIFICATE block ending in "\n".
func EncodeCertificatePEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: blockCertificate, Bytes: c.Raw}))
}

// EncodeCertificatesPEM returns the certificates as consecutive PEM blocks,
// the form of a chain file (leaf first).
func EncodeCertificatesPEM(certs []*x509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		b.WriteString(EncodeCertificatePEM(c))
	}
	return b.String()
}

// EncodeCSRPEM returns csr as a PEM CERTIFICATE REQUEST block.
func EncodeCSRPEM(csr *x509.CertificateRequest) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: blockCSR, Bytes: csr.Raw}))
}

// decodePEM returns up to max PEM blocks of text (all when max < 0), after
// normalising line ends and indentation. It fails when text has a BEGIN
// marker but no block decodes, so a damaged PEM is not reported as absent.
func decodePEM(text string, max int) ([]*pem.Block, error) {
	data := normalizePEM(text)
	var blocks []*pem.Block
	for max < 0 || len(blocks) < max {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 && bytes.Contains(data, []byte(pemBeginMarker)) {
		return nil, errors.New("malformed PEM: a BEGIN line without a well-formed block (check the base64 body and the END line)")
	}
	return blocks, nil
}

// normalizePEM trims blanks and \r from both ends of every line, so that
// indented or CRLF text decodes like the original.
func normalizePEM(text string) []byte {
	out := make([]byte, 0, len(text))
	for line := range strings.Lines(text) {
		out = append(out, strings.TrimSpace(line)...)
		out = append(out, '\n')
	}
	return out
}
