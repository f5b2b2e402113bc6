package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

const (
	timeFormat = "20060102T150405Z" // ISO 8601 basic format, as in X-Amz-Date
	dateFormat = "20060102"         // the date of the credential scope
	terminator = "aws4_request"

	// maxPresignExpires is the longest X-Amz-Expires AWS accepts: seven days.
	maxPresignExpires = 7 * 24 * time.Hour
	// maxAccessKeyIDLen bounds the access key IDs passed to Verifier.Secret.
	maxAccessKeyIDLen = 128
)

// Query parameters of a presigned URL.
const (
	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
)

// authorization is what a request claims about its signature, before any of
// it is checked against a secret.
type authorization struct {
	presigned bool

	accessKeyID string
	scopeDate   string // yyyymmdd
	region      string
	service     string

	signedHeaders string   // verbatim; it is part of the canonical request
	headerNames   []string // signedHeaders split on ';'
	signature     string

	amzDate  string // verbatim; it is part of the string to sign
	signedAt time.Time
	expires  time.Duration // presigned only; 0 when X-Amz-Expires is absent
}

// scope returns the credential scope: date/region/service/aws4_request.
func (a *authorization) scope() string {
	return a.scopeDate + "/" + a.region + "/" + a.service + "/" + terminator
}

// parseAuthorization reads the signature from the Authorization header or,
// for a presigned URL, from the query.
func parseAuthorization(h http.Header, q url.Values) (*authorization, error) {
	values := h.Values("Authorization")
	if len(values) == 1 && strings.TrimSpace(values[0]) == "" {
		values = nil
	}
	presigned := q.Has(queryAlgorithm) || q.Has(queryCredential) || q.Has(querySignature)
	switch {
	case len(values) == 0 && !presigned:
		return nil, &Error{Code: MissingAuthenticationToken, Message: msgMissingToken}
	case len(values) > 0 && presigned:
		return nil, errorf(IncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "+
			"Signature query string parameter or the Authorization header should be specified.")
	case len(values) > 1:
		return nil, errorf(IncompleteSignature, "Only one Authorization header is allowed.")
	case presigned:
		return parsePresigned(q)
	}
	return parseHeader(values[0], h)
}

// parseHeader parses
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260304/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
//
// and reads X-Amz-Date.
func parseHeader(value string, h http.Header) (*authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(value), " ")
	if alg != Algorithm {
		return nil, errorf(IncompleteSignature, "Authorization header requires the %s algorithm.", Algorithm)
	}
	// The parameters in the order AWS lists the missing ones.
	names := [3]string{"Credential", "Signature", "SignedHeaders"}
	var fields [3]string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errorf(IncompleteSignature, "Invalid key=value pair (missing equal-sign) in Authorization header.")
		}
		i := slices.Index(names[:], k)
		if i < 0 {
			return nil, errorf(IncompleteSignature, "Authorization header has an unknown parameter; "+
				"expected only Credential, SignedHeaders and Signature.")
		}
		if seen[i] {
			return nil, errorf(IncompleteSignature, "Authorization header has parameter %s more than once.", k)
		}
		seen[i], fields[i] = true, v
	}

	var missing []string
	for i, name := range names {
		if fields[i] == "" {
			missing = append(missing, "Authorization header requires '"+name+"' parameter.")
		}
	}
	dates := h.Values("X-Amz-Date")
	if len(dates) == 0 || dates[0] == "" {
		missing = append(missing, "Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	if len(missing) > 0 {
		return nil, errorf(IncompleteSignature, "%s", strings.Join(missing, " "))
	}
	if len(dates) > 1 {
		return nil, errorf(IncompleteSignature, "Only one X-Amz-Date header is allowed.")
	}

	a := &authorization{signature: fields[1]}
	if err := a.setCredential(fields[0]); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(fields[2]); err != nil {
		return nil, err
	}
	if err := a.setDate(dates[0]); err != nil {
		return nil, err
	}
	return a, nil
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL.
func parsePresigned(q url.Values) (*authorization, error) {
	required := [...]string{queryAlgorithm, queryCredential, querySignature, querySignedHeaders, queryDate}
	var missing []string
	for _, k := range required {
		if len(q[k]) == 0 || q[k][0] == "" {
			missing = append(missing, "AWS query-string parameters must include '"+k+"'.")
		}
	}
	if len(missing) > 0 {
		missing = append(missing, "Re-examine the query-string parameters.")
		return nil, errorf(IncompleteSignature, "%s", strings.Join(missing, " "))
	}
	for _, k := range append(required[:], queryExpires) {
		if len(q[k]) > 1 {
			return nil, errorf(IncompleteSignature, "AWS query-string parameter '%s' must be given once.", k)
		}
	}
	if q.Get(queryAlgorithm) != Algorithm {
		return nil, errorf(IncompleteSignature, "X-Amz-Algorithm only supports '%s'.", Algorithm)
	}

	a := &authorization{presigned: true, signature: q.Get(querySignature)}
	if err := a.setCredential(q.Get(queryCredential)); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(q.Get(querySignedHeaders)); err != nil {
		return nil, err
	}
	if err := a.setDate(q.Get(queryDate)); err != nil {
		return nil, err
	}
	if s, ok := q[queryExpires]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil || n < 1 || time.Duration(n)*time.Second > maxPresignExpires {
			return nil, errorf(IncompleteSignature, "X-Amz-Expires must be a whole number of seconds from 1 to %d.",
				int(maxPresignExpires/time.Second))
		}
		a.expires = time.Duration(n) * time.Second
	}
	return a, nil
}

// setCredential parses AKID/yyyymmdd/region/service/aws4_request. The access
// key ID is everything before the last four slashes.
func (a *authorization) setCredential(s string) error {
	parts := strings.Split(s, "/")
	n := len(parts)
	if n < 5 {
		return errorf(IncompleteSignature, "Credential should be <access key ID>/<date>/<region>/<service>/%s.", terminator)
	}
	a.accessKeyID = strings.Join(parts[:n-4], "/")
	a.scopeDate, a.region, a.service = parts[n-4], parts[n-3], parts[n-2]
	switch {
	case a.accessKeyID == "":
		return errorf(IncompleteSignature, "Credential requires an access key ID.")
	case parts[n-1] != terminator:
		return errorf(IncompleteSignature, "Credential should be scoped with a valid terminator: '%s'.", terminator)
	case !isScopeDate(a.scopeDate):
		return errorf(IncompleteSignature, "Credential should be scoped to a valid date (yyyyMMdd).")
	case !isRegion(a.region):
		return errorf(IncompleteSignature, "Credential should be scoped to a valid region.")
	case a.service == "":
		return errorf(IncompleteSignature, "Credential should be scoped to a service.")
	}
	return nil
}

// setSignedHeaders parses the ';'-separated list of signed header names, which
// must include host.
func (a *authorization) setSignedHeaders(s string) error {
	a.signedHeaders = s
	a.headerNames = strings.Split(s, ";")
	host := false
	for _, name := range a.headerNames {
		if name == "" {
			return errorf(IncompleteSignature, "SignedHeaders must not have an empty header name.")
		}
		if strings.EqualFold(name, "host") {
			host = true
		}
	}
	if !host {
		return errorf(IncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// setDate parses X-Amz-Date, which must be in ISO 8601 basic format and fall
// on the credential scope's date.
func (a *authorization) setDate(s string) error {
	t, err := time.Parse(timeFormat, s)
	if err != nil || t.Format(timeFormat) != s {
		return errorf(IncompleteSignature, "Date must be in ISO-8601 'basic format' (yyyyMMdd'T'HHmmss'Z').")
	}
	a.amzDate, a.signedAt = s, t
	if d := s[:len(dateFormat)]; d != a.scopeDate {
		return errorf(InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "+
			"'%s' != '%s', from '%s'.", a.scopeDate, d, s)
	}
	return nil
}

func isScopeDate(s string) bool {
	if len(s) != len(dateFormat) {
		return false
	}
	t, err := time.Parse(dateFormat, s)
	return err == nil && t.Format(dateFormat) == s
}

// isRegion reports whether s is shaped like an AWS region name: words of
// lower-case letters and digits joined by single dashes, starting with a
// letter, at most 63 bytes (a DNS label, as the region is in AWS host names):
// us-east-1, us-gov-west-1, eusc-de-east-1. Any such region is accepted — the
// region is whatever the client signed with — but it reaches logs and
// Identity, so nothing else is.
func isRegion(s string) bool {
	if s == "" || len(s) > 63 || !('a' <= s[0] && s[0] <= 'z') || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// isAccessKeyID reports whether s could name a key: printable ASCII without
// spaces, at most maxAccessKeyIDLen bytes. Others are rejected without asking
// Verifier.Secret.
func isAccessKeyID(s string) bool {
	if len(s) > maxAccessKeyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
