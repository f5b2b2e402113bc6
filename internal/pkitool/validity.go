package pkitool

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

// Default validity periods, when a request leaves Validity zero.
const (
	DefaultRootValidity         = 10 * 365 * 24 * time.Hour // seed 000: -days 3650
	DefaultIntermediateValidity = 5 * 365 * 24 * time.Hour
	DefaultDeviceValidity       = 365 * 24 * time.Hour // seed 000: -days 365
	DefaultVerificationValidity = 30 * 24 * time.Hour  // only RegisterCACertificate reads it
)

// period returns the validity of a new certificate: from now minus
// [pki.Backdate] (for peers whose clock is a little behind) for validity, or
// def when validity is zero.
func period(now time.Time, validity, def time.Duration) (notBefore, notAfter time.Time, err error) {
	if validity < 0 {
		return time.Time{}, time.Time{}, fmt.Errorf("validity %s is negative", validity)
	}
	if validity == 0 {
		validity = def
	}
	return now.Add(-pki.Backdate), now.Add(validity), nil
}

// cappedNote explains a certificate that ends earlier than asked, because
// pki never lets a certificate outlive its issuer; "" when it does not.
func cappedNote(cert, issuer *x509.Certificate, asked time.Time) string {
	if asked.Sub(cert.NotAfter) <= time.Second { // notAfter has whole seconds
		return ""
	}
	return fmt.Sprintf("valid until %s, the expiry of its CA %q, rather than %s: a certificate never outlives its issuer",
		day(cert.NotAfter), issuer.Subject.String(), day(asked))
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
