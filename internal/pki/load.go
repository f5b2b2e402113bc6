package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ServerRenewBefore is how long before its notAfter a server certificate is
// reissued by [LoadOrCreateServerCertificate].
const ServerRenewBefore = 30 * 24 * time.Hour

// LoadOrCreateAuthority returns the CA kept in certPath (PEM certificate) and
// keyPath (PEM private key), creating it on first use; created reports
// whether it did. It is how `iotcore serve` gets its root CA (the stand-in for
// AmazonRootCA1 that devices trust) and its service CA.
//
//   - Both files present: they are parsed and must pair ([NewAuthority]) and
//     be valid at now; an expired CA is an error, not replaced, since devices
//     trust it. subject and validity are ignored.
//   - Neither present: a new ECDSA P-256 key is written to keyPath (mode
//     0600) and then a self-signed root to certPath (0644), subject as given,
//     valid from now-[Backdate] for validity (0 means [RootValidity]).
//     Missing directories are created with mode 0700.
//   - Only the key present (a crash between the two writes): a new root is
//     made for that key.
//   - Only the certificate present: an error; iotcore never invents a key
//     for an existing certificate.
func LoadOrCreateAuthority(certPath, keyPath string, subject pkix.Name, validity time.Duration, now time.Time) (a *Authority, created bool, err error) {
	certPEM, certErr := readOptional(certPath)
	keyPEM, keyErr := readOptional(keyPath)
	if err := errors.Join(certErr, keyErr); err != nil {
		return nil, false, fmt.Errorf("load CA: %w", err)
	}
	switch {
	case certPEM != nil && keyPEM != nil:
		a, err := ParseAuthorityPEM(string(certPEM), string(keyPEM))
		if err != nil {
			return nil, false, fmt.Errorf("load CA %s: %w", certPath, err)
		}
		if err := CheckValidAt(a.Certificate, now); err != nil {
			return nil, false, fmt.Errorf("load CA %s: %w; to start over, remove it and %s (devices must then trust the new CA)", certPath, err, keyPath)
		}
		return a, false, nil
	case certPEM != nil:
		return nil, false, fmt.Errorf("load CA: found the certificate %s but not its key %s; restore the key, or remove the certificate to create a new CA", certPath, keyPath)
	}

	if validity <= 0 {
		validity = RootValidity
	}
	if keyPEM != nil {
		key, err := ParsePrivateKeyPEM(string(keyPEM))
		if err != nil {
			return nil, false, fmt.Errorf("create CA from existing key %s: %w", keyPath, err)
		}
		a, err = NewRootCA(subject, key, now.Add(-Backdate), now.Add(validity))
		if err != nil {
			return nil, false, fmt.Errorf("create CA: %w", err)
		}
	} else {
		key, err := GenerateKey(DefaultKeyType)
		if err != nil {
			return nil, false, fmt.Errorf("create CA: %w", err)
		}
		a, err = NewRootCA(subject, key, now.Add(-Backdate), now.Add(validity))
		if err != nil {
			return nil, false, fmt.Errorf("create CA: %w", err)
		}
		if err := mkdirs(keyPath); err != nil {
			return nil, false, fmt.Errorf("create CA: %w", err)
		}
		if err := WritePrivateKeyFile(keyPath, key); err != nil {
			return nil, false, fmt.Errorf("create CA: %w", err)
		}
	}
	if err := mkdirs(certPath); err != nil {
		return nil, false, fmt.Errorf("create CA: %w", err)
	}
	if err := WriteFileAtomic(certPath, []byte(EncodeCertificatePEM(a.Certificate)), CertificateFileMode); err != nil {
		return nil, false, fmt.Errorf("create CA: %w", err)
	}
	return a, true, nil
}

// LoadOrCreateServerCertificate returns the server certificate kept in
// certPath and keyPath, issuing a new one from ca (with a new ECDSA P-256 key)
// when the files are missing or unreadable, the key does not match, ca did not
// sign it, it is not yet valid, it expires within [ServerRenewBefore] (or
// within half of validity, if that is shorter), or its names differ from
// hosts. reason says why it issued one, for the log; it is "" when the files
// were reused. validity 0 means [ServerValidity]; a new certificate starts at
// now-[Backdate] and never outlives ca.
//
// The files belong to this function: do not point it at a certificate from
// elsewhere, which it would replace. The returned chain holds the leaf, plus
// ca's certificate when ca is not a self-signed root.
func LoadOrCreateServerCertificate(ca *Authority, certPath, keyPath string, hosts []string, validity time.Duration, now time.Time) (cert tls.Certificate, reason string, err error) {
	if ca == nil || ca.Certificate == nil || ca.Key == nil {
		return tls.Certificate{}, "", errors.New("load server certificate: no CA to issue it")
	}
	want, err := ParseHosts(hosts)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("load server certificate: %w", err)
	}
	if validity <= 0 {
		validity = ServerValidity
	}
	renewBefore := min(ServerRenewBefore, validity/2)

	certPEM, certErr := readOptional(certPath)
	keyPEM, keyErr := readOptional(keyPath)
	if err := errors.Join(certErr, keyErr); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("load server certificate: %w", err)
	}
	reason = "no certificate or key file"
	if certPEM != nil && keyPEM != nil {
		leaf, key, why := checkServerFiles(ca, string(certPEM), string(keyPEM), want, renewBefore, now)
		if why == "" {
			return serverTLSCertificate(ca, leaf, key), "", nil
		}
		reason = why
	}

	key, err := GenerateKey(DefaultKeyType)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("issue server certificate: %w", err)
	}
	leaf, err := ca.IssueServer(key.Public(), hosts, now.Add(-Backdate), now.Add(validity))
	if err != nil {
		return tls.Certificate{}, "", err
	}
	// Key first: after a crash between the writes the old certificate no
	// longer matches the key, so the next start issues again.
	for _, p := range []string{keyPath, certPath} {
		if err := mkdirs(p); err != nil {
			return tls.Certificate{}, "", fmt.Errorf("issue server certificate: %w", err)
		}
	}
	if err := WritePrivateKeyFile(keyPath, key); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("issue server certificate: %w", err)
	}
	if err := WriteFileAtomic(certPath, []byte(EncodeCertificatePEM(leaf)), CertificateFileMode); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("issue server certificate: %w", err)
	}
	return serverTLSCertificate(ca, leaf, key), reason, nil
}

// NewServerCertificate issues a server certificate for hosts (DNS names,
// wildcards included, or IP addresses) with a new key, kept in memory only:
// the certificates of custom domains, issued again at each start.
func NewServerCertificate(ca *Authority, hosts []string, validity time.Duration, now time.Time) (tls.Certificate, error) {
	if validity <= 0 {
		validity = ServerValidity
	}
	key, err := GenerateKey(DefaultKeyType)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issue server certificate: %w", err)
	}
	leaf, err := ca.IssueServer(key.Public(), hosts, now.Add(-Backdate), now.Add(validity))
	if err != nil {
		return tls.Certificate{}, err
	}
	return serverTLSCertificate(ca, leaf, key), nil
}

// checkServerFiles returns the parsed certificate and key, or why they must
// be replaced.
func checkServerFiles(ca *Authority, certPEM, keyPEM string, want Hosts, renewBefore time.Duration, now time.Time) (*x509.Certificate, crypto.Signer, string) {
	leaf, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Sprintf("unreadable certificate: %v", err)
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Sprintf("unreadable key: %v", err)
	}
	if err := CheckKeyMatch(leaf, key); err != nil {
		return nil, nil, "the key does not match the certificate"
	}
	if !SignedBy(leaf, ca.Certificate) {
		return nil, nil, fmt.Sprintf("not issued by the current CA %q", ca.Certificate.Subject.String())
	}
	if now.Before(leaf.NotBefore) {
		return nil, nil, fmt.Sprintf("not valid until %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if leaf.NotAfter.Sub(now) < renewBefore {
		return nil, nil, fmt.Sprintf("expires at %s, within %s", leaf.NotAfter.UTC().Format(time.RFC3339), renewBefore)
	}
	if got := certificateHosts(leaf); !got.Equal(want) {
		return nil, nil, fmt.Sprintf("hosts changed from %s to %s", got, want)
	}
	return leaf, key, ""
}

func serverTLSCertificate(ca *Authority, leaf *x509.Certificate, key crypto.Signer) tls.Certificate {
	chain := [][]byte{leaf.Raw}
	if string(ca.Certificate.RawIssuer) != string(ca.Certificate.RawSubject) {
		chain = append(chain, ca.Certificate.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}
}

// readOptional returns the content of path, or nil if it does not exist.
func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func mkdirs(path string) error {
	return os.MkdirAll(filepath.Dir(path), 0o700)
}
