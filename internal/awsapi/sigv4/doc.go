// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on the
// server side, so that the real aws CLI (botocore) and the AWS SDKs can call
// the iotcore control plane with only their endpoint changed.
//
// A [Verifier] checks one request: the Authorization header, or the
// X-Amz-Algorithm/X-Amz-Credential/... query parameters of a presigned URL.
// It rebuilds the canonical request the client signed, derives the signing
// key from the secret of the access key in the credential scope, and compares
// signatures in constant time. It is pure: it neither logs nor reads the
// request body (the caller passes the body it has already read).
// [Verifier.Precheck] checks, before the caller reads any body, everything
// that needs none: the header's shape, the service, the key and the time.
//
// The canonical request follows the SigV4 specification for services other
// than S3 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
// as the signers in use implement it:
//
//   - Canonical URI: the path exactly as it came over the wire (from
//     Request.RequestURI), percent-encoded a second time — botocore signs
//     quote(path, safe='/~') and aws-sdk-go-v2 signs
//     httpbinding.EscapePath(URL.EscapedPath()), so %3A becomes %253A.
//     botocore also removes "." and ".." segments and empty segments ("//")
//     before encoding, as the AWS services do on their side, while
//     aws-sdk-go-v2 does not; when the path has such segments both forms are
//     tried.
//   - Canonical query: the parameters as net/url parses them (the same view a
//     handler gets from Request.URL.Query), names and values encoded with
//     only RFC 3986 unreserved characters kept, sorted after encoding by name
//     then value; X-Amz-Signature is left out for presigned URLs.
//   - Canonical headers: the headers named in SignedHeaders, in that order,
//     lower-case names, values trimmed with runs of spaces collapsed, several
//     values joined by commas; "host" is Request.Host and must be signed.
//   - Payload hash: always the hex SHA-256 of the body received. An
//     X-Amz-Content-Sha256 header, when sent, must be that hash;
//     UNSIGNED-PAYLOAD is refused, since botocore and the AWS SDKs sign the
//     body of every AWS IoT call.
//
// The region in the credential scope is whatever the client signed with; any
// region-shaped name (us-east-1, us-gov-west-1) is accepted and reported in
// [Identity]. The service must be
// Verifier.Service or one of Verifier.ServiceAliases: older AWS IoT models,
// still shipped by some aws CLI builds, sign the control plane as
// "execute-api" rather than "iot"; a request signed for another service is
// refused with a [ServiceError] as its cause. X-Amz-Security-Token is treated as an ordinary signed
// value: temporary credentials are not supported, and the token is not checked.
//
// Because the Host header is signed, a reverse proxy in front of the server
// must pass Host through unchanged.
//
// [Verifier.VerifyPresigned] checks the presigned URL of a request without a
// body, the WebSocket upgrade of MQTT over WebSocket (service
// iotdevicegateway), as AWS's device SDKs sign it: X-Amz-Security-Token,
// appended after signing, is left out of the canonical query, and the
// payload hash is that of the empty body or UNSIGNED-PAYLOAD.
//
// Failures are *[Error] values (the shared iot.Error) whose Code is the
// exception name AWS's API front end returns — MissingAuthenticationTokenException,
// IncompleteSignatureException, UnrecognizedClientException or
// InvalidSignatureException — all sent with HTTP 403 by the API adapter. The
// Message is safe for the client; Err, when set, carries the canonical request
// and string to sign for the server log.
package sigv4
