package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
)

// querySecurityToken is the session token of temporary credentials. AWS's
// device SDKs append it to a presigned WebSocket URL after signing, so it is
// not part of the canonical query they signed.
const querySecurityToken = "X-Amz-Security-Token"

// emptyPayloadHash is the hex SHA-256 of nothing: the payload hash of a
// request without a body, such as a WebSocket upgrade.
var emptyPayloadHash = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// VerifyPresigned checks a presigned URL on a request without a body, such
// as the WebSocket upgrade of MQTT over WebSocket (service iotdevicegateway).
// Only the X-Amz-* query parameters are read: an Authorization header is
// refused. The canonical request is rebuilt as the client signed it:
//
//   - the method and path received, and the canonical query of every
//     parameter but X-Amz-Signature and X-Amz-Security-Token, which the AWS
//     IoT Device SDKs (aws-crt, aws-iot-device-sdk-js-v2) append after
//     signing; a URL whose token was signed with the rest (aws-sdk-go-v2's
//     PresignHTTP) is accepted too;
//   - the headers named in X-Amz-SignedHeaders, as received: browsers' SDKs
//     sign host, aws-crt signs connection;host;
//   - as payload hash, the SHA-256 of the empty body, or UNSIGNED-PAYLOAD.
//
// The token itself is not checked: iotcore has no temporary credentials. The
// time rules are Verify's: within MaxSkew of X-Amz-Date, or until
// X-Amz-Date + X-Amz-Expires when it is given.
func (v *Verifier) VerifyPresigned(r *http.Request) (Identity, error) {
	if len(r.Header.Values("Authorization")) > 0 {
		return Identity{}, errorf(IncompleteSignature, "Only a presigned URL is accepted here, not an Authorization header.")
	}
	a, query, secret, err := v.precheck(r)
	if err != nil {
		return Identity{}, err
	}
	if !a.presigned {
		return Identity{}, &Error{Code: MissingAuthenticationToken, Message: msgMissingToken}
	}

	// The queries the client may have signed: without the token (the
	// device SDKs), then with it (a generic SigV4 presigner).
	queries := []url.Values{query}
	if _, ok := query[querySecurityToken]; ok {
		without := url.Values{}
		for k, vs := range query {
			if k != querySecurityToken {
				without[k] = vs
			}
		}
		queries = []url.Values{without, query}
	}
	key := signingKey(secret, a.scopeDate, a.region, a.service)
	scope := a.scope()
	headers := canonicalHeaders(r, a.headerNames)
	var first, firstSTS string
	for _, q := range queries {
		cquery := canonicalQuery(q, true)
		for _, uri := range canonicalURIs(requestPath(r)) {
			for _, ph := range []string{emptyPayloadHash, UnsignedPayload} {
				cr := canonicalRequest(r.Method, uri, cquery, headers, a.signedHeaders, ph)
				sts := stringToSign(a.amzDate, scope, cr)
				if hmac.Equal([]byte(signature(key, sts)), []byte(a.signature)) {
					return Identity{AccessKeyID: a.accessKeyID, Region: a.region, Service: a.service, SignedAt: a.signedAt}, nil
				}
				if first == "" {
					first, firstSTS = cr, sts
				}
			}
		}
	}
	return Identity{}, &Error{
		Code:    InvalidSignature,
		Message: msgSignatureInvalid,
		Err: fmt.Errorf("verify presigned url: signature mismatch for access key %s; canonical request:\n%s\nstring to sign:\n%s",
			a.accessKeyID, first, firstSTS),
	}
}
