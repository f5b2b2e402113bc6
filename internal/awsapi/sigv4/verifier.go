package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultMaxSkew is the clock skew allowed when Verifier.MaxSkew is zero. It
// is the window AWS's API front end allows (most AWS services allow 15
// minutes); its error message reads "(<now> - 5 min.)".
const DefaultMaxSkew = 5 * time.Minute

// UnsignedPayload is the X-Amz-Content-Sha256 value by which a client leaves
// the body out of the signature. Verify refuses it: the canonical request
// always carries the hash of the body received.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// Verifier checks SigV4 signatures for one service. Its fields must not change
// while Verify runs; Verify is safe for concurrent use.
type Verifier struct {
	// Service is the signing name the credential scope must name, "iot" for
	// the control plane. It must be set.
	Service string

	// ServiceAliases are further signing names accepted in the credential
	// scope. Clients built from older AWS IoT models sign the control plane
	// as "execute-api" (aws-cli 2.9 in Debian 12 does), so the control plane
	// sets ServiceAliases to []string{"execute-api"}. Nil accepts Service only.
	ServiceAliases []string

	// Secret returns the secret access key for an access key ID, and false
	// if the key is unknown or disabled. A nil Secret knows no keys.
	Secret func(accessKeyID string) (secret string, ok bool)

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// MaxSkew is how far X-Amz-Date may lie before or after Now. Zero means
	// DefaultMaxSkew (5 minutes). A presigned URL with X-Amz-Expires is
	// valid from X-Amz-Date - MaxSkew until X-Amz-Date + X-Amz-Expires.
	MaxSkew time.Duration
}

// Identity is what a verified request proves: who signed it, for which region
// and service, and when.
type Identity struct {
	AccessKeyID string
	Region      string    // as signed by the client; any region is accepted
	Service     string    // as signed: Verifier.Service or one of its ServiceAliases
	SignedAt    time.Time // X-Amz-Date, UTC
}

// Verify checks r's SigV4 signature — the Authorization header
// (AWS4-HMAC-SHA256), or the X-Amz-* query parameters of a presigned URL —
// against body, the full request body, already read by the caller. It does
// not modify r. On failure it returns an *Error whose Code is one of
// MissingAuthenticationToken, IncompleteSignature, UnrecognizedClient or
// InvalidSignature.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	a, query, secret, err := v.precheck(r)
	if err != nil {
		return Identity{}, err
	}
	ph, err := payloadHash(r.Header, body)
	if err != nil {
		return Identity{}, err
	}

	key := signingKey(secret, a.scopeDate, a.region, a.service)
	scope := a.scope()
	var first, firstSTS string
	for i, cr := range canonicalRequests(r, a, query, ph) {
		sts := stringToSign(a.amzDate, scope, cr)
		if hmac.Equal([]byte(signature(key, sts)), []byte(a.signature)) {
			return Identity{AccessKeyID: a.accessKeyID, Region: a.region, Service: a.service, SignedAt: a.signedAt}, nil
		}
		if i == 0 {
			first, firstSTS = cr, sts
		}
	}
	return Identity{}, &Error{
		Code:    InvalidSignature,
		Message: msgSignatureInvalid,
		Err: fmt.Errorf("verify sigv4: signature mismatch for access key %s; canonical request:\n%s\nstring to sign:\n%s",
			a.accessKeyID, first, firstSTS),
	}
}

// Precheck checks everything Verify checks that does not need the body: the
// Authorization header (or presigned query) is well formed, its credential
// scope names Service or an alias and a region-shaped region, the access key
// is known and the signing time is within MaxSkew. A caller runs it before
// reading the body, so that a request from no one it knows is refused without
// reading one. It proves nothing about who signed r; only Verify does. It
// fails with the same errors as Verify.
func (v *Verifier) Precheck(r *http.Request) error {
	_, _, _, err := v.precheck(r)
	return err
}

// precheck parses r's signature and checks what needs no body; it returns the
// parsed authorization, the query as handlers see it, and the key's secret.
func (v *Verifier) precheck(r *http.Request) (*authorization, url.Values, string, error) {
	var rawQuery string
	if r.URL != nil {
		rawQuery = r.URL.RawQuery
	}
	// The same view of the query that handlers get from r.URL.Query(): pairs
	// it cannot parse are dropped here too, so nothing a handler sees is
	// unsigned.
	query, _ := url.ParseQuery(rawQuery)

	a, err := parseAuthorization(r.Header, query)
	if err != nil {
		return nil, nil, "", err
	}
	if a.service != v.Service && !slices.Contains(v.ServiceAliases, a.service) {
		return nil, nil, "", &Error{
			Code:    InvalidSignature,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", v.Service),
			Err:     &ServiceError{Service: a.service},
		}
	}
	secret, ok := "", false
	if v.Secret != nil && isAccessKeyID(a.accessKeyID) {
		secret, ok = v.Secret(a.accessKeyID)
	}
	if !ok {
		return nil, nil, "", &Error{Code: UnrecognizedClient, Message: msgUnrecognized}
	}
	if err := v.checkTime(a); err != nil {
		return nil, nil, "", err
	}
	return a, query, secret, nil
}

// checkTime rejects requests signed too long ago or too far in the future.
func (v *Verifier) checkTime(a *authorization) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if a.signedAt.After(t.Add(skew)) {
		return errorf(InvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s)",
			a.amzDate, t.Add(skew).Format(timeFormat), t.Format(timeFormat), skewText(skew))
	}
	if a.presigned && a.expires > 0 {
		if end := a.signedAt.Add(a.expires); t.After(end) {
			return errorf(InvalidSignature, "Signature expired: %s is now earlier than %s (%s + %d sec.)",
				end.Format(timeFormat), t.Format(timeFormat), a.amzDate, int(a.expires/time.Second))
		}
		return nil
	}
	if a.signedAt.Before(t.Add(-skew)) {
		return errorf(InvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s)",
			a.amzDate, t.Add(-skew).Format(timeFormat), t.Format(timeFormat), skewText(skew))
	}
	return nil
}

// skewText writes a skew as AWS does: "5 min.", or in seconds when it is not
// a whole number of minutes.
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return fmt.Sprintf("%d sec.", d/time.Second)
}

// payloadHash returns the payload hash of the canonical request: always the
// hex SHA-256 of the body received, never a value the client merely claims.
// An X-Amz-Content-Sha256 header, when sent, must be that hash.
// UNSIGNED-PAYLOAD is refused: botocore and the AWS SDKs sign the body of
// every AWS IoT call (only S3 and operations with the v4-unsigned-body trait,
// which AWS IoT has none of, sign UNSIGNED-PAYLOAD), so accepting it would
// only let a body be swapped after signing.
func payloadHash(h http.Header, body []byte) (string, error) {
	s := sha256.Sum256(body)
	sum := hex.EncodeToString(s[:])
	vs := h.Values("X-Amz-Content-Sha256")
	switch {
	case len(vs) == 0:
		return sum, nil
	case len(vs) > 1:
		return "", errorf(InvalidSignature, "Only one x-amz-content-sha256 header is allowed.")
	case vs[0] == UnsignedPayload:
		return "", errorf(InvalidSignature, "x-amz-content-sha256 %s is not accepted by this service: "+
			"sign the hex SHA-256 of the request body.", UnsignedPayload)
	case !isHexSHA256(vs[0]):
		return "", errorf(InvalidSignature, "x-amz-content-sha256 must be the hex SHA-256 of the payload.")
	case !strings.EqualFold(vs[0], sum):
		return "", errorf(InvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	// The client's spelling of the same hash (upper-case hex is the same
	// digest), as it signed it.
	return vs[0], nil
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
