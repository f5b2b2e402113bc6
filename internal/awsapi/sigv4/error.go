package sigv4

import (
	"fmt"

	"github.com/iotcore/iotcore/internal/iot"
)

// Error is the shared iotcore error: Code is the AWS exception name, Message is
// safe for the client and Err is the cause, which is only logged. Every error
// returned by [Verifier.Verify] is an *Error with one of the codes below, and
// the API adapter sends all of them with HTTP status 403.
type Error = iot.Error

// Exception names returned by the AWS front end for authentication failures.
const (
	// MissingAuthenticationToken: the request carries no signature at all.
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	// IncompleteSignature: the signature is malformed or lacks a part.
	IncompleteSignature = "IncompleteSignatureException"
	// UnrecognizedClient: the access key ID is unknown.
	UnrecognizedClient = "UnrecognizedClientException"
	// InvalidSignature: the signature does not match, is out of date, or is
	// scoped to another service.
	InvalidSignature = "InvalidSignatureException"
)

// Client-visible messages, worded as AWS words them.
const (
	msgMissingToken     = "Missing Authentication Token"
	msgUnrecognized     = "The security token included in the request is invalid."
	msgSignatureInvalid = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// ServiceError is the cause (Error.Err) of a refusal because the credential
// scope names a service the Verifier does not serve, such as "iotdata" for
// the AWS IoT data plane. A caller can find it with errors.As and tell the
// client what it serves instead.
type ServiceError struct {
	Service string // the signing name in the credential scope, as sent
}

func (e *ServiceError) Error() string {
	return fmt.Sprintf("verify sigv4: the credential scope names the service %q", e.Service)
}

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
