package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// requestPath returns the request's path exactly as it came over the wire.
// Request.URL.EscapedPath may re-encode a path it considers badly escaped, so
// RequestURI is preferred.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if strings.HasPrefix(p, "/") {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return p
	}
	// A client-side request, or an absolute-form request URI (http://host/path).
	if r.URL != nil {
		p = r.URL.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// canonicalURIs returns the canonical URIs the client may have signed: the
// wire path encoded again (aws-sdk-go-v2), and, when it differs, the same
// after removing dot segments and empty segments (botocore, and AWS services).
func canonicalURIs(path string) []string {
	uris := []string{uriEncode(path, false)}
	if n := removeDotSegments(path); n != path {
		uris = append(uris, uriEncode(n, false))
	}
	return uris
}

// removeDotSegments removes "." and ".." segments as in RFC 3986 section
// 5.2.4 and also drops empty segments, as botocore's
// botocore.utils.remove_dot_segments does.
func removeDotSegments(path string) string {
	if path == "" {
		return "/"
	}
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	b.Grow(len(path))
	if path[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if path[len(path)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// canonicalQuery encodes the query parameters, sorted by encoded name and
// then encoded value. For presigned URLs X-Amz-Signature is left out.
func canonicalQuery(q url.Values, presigned bool) string {
	type param struct{ k, v string }
	params := make([]param, 0, len(q))
	for k, vs := range q {
		if presigned && k == querySignature {
			continue
		}
		ek := uriEncode(k, true)
		for _, v := range vs {
			params = append(params, param{ek, uriEncode(v, true)})
		}
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// canonicalHeaders returns one "name:value\n" line per signed header.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		lower := strings.ToLower(name)
		b.WriteString(lower)
		b.WriteByte(':')
		switch vs := headerValues(r, lower); len(vs) {
		case 0:
		case 1:
			b.WriteString(trimAll(vs[0]))
		default:
			for i, v := range vs {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(trimAll(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// headerValues returns the values of the named header. Go's server moves Host
// out of the header map into Request.Host.
func headerValues(r *http.Request, lower string) []string {
	if lower == "host" {
		return []string{r.Host}
	}
	vs, ok := r.Header[textproto.CanonicalMIMEHeaderKey(lower)]
	if !ok {
		// A name textproto could not canonicalise is kept as received.
		vs = r.Header[lower]
	}
	if len(vs) == 0 && lower == "content-length" && r.ContentLength > 0 {
		vs = []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	return vs
}

// trimAll trims a header value and collapses runs of spaces into one, as the
// SigV4 specification's Trimall and aws-sdk-go-v2's StripExcessSpaces do.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

// canonicalRequests returns the canonical requests the client may have
// signed: one, or two when the path has dot or empty segments (see
// canonicalURIs).
func canonicalRequests(r *http.Request, a *authorization, query url.Values, payloadHash string) []string {
	cquery := canonicalQuery(query, a.presigned)
	headers := canonicalHeaders(r, a.headerNames)
	uris := canonicalURIs(requestPath(r))
	crs := make([]string, len(uris))
	for i, uri := range uris {
		crs[i] = canonicalRequest(r.Method, uri, cquery, headers, a.signedHeaders, payloadHash)
	}
	return crs
}

// canonicalRequest joins the parts of the canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	var b strings.Builder
	b.Grow(len(method) + len(uri) + len(query) + len(headers) + len(signedHeaders) + len(payloadHash) + 5)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(headers)
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// stringToSign returns AWS4-HMAC-SHA256, the request time, the credential
// scope and the hash of the canonical request, one per line.
func stringToSign(amzDate, scope, canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// signingKey derives the key for one day, region and service.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

// signature returns the hex HMAC-SHA256 of the string to sign.
func signature(key []byte, sts string) string {
	return hex.EncodeToString(hmacSHA256(key, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// uriEncode percent-encodes every byte except the RFC 3986 unreserved
// characters (A-Z a-z 0-9 - . _ ~), with upper-case hex, and keeps '/' unless
// encodeSlash is set. It is botocore's quote(s, safe='/~') for paths and
// quote(s, safe='-_.~') for query names and values.
func uriEncode(s string, encodeSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && (encodeSlash || s[i] != '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (!encodeSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
