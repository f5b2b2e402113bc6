package provision

import (
	"fmt"
	"net/http"
)

// The errorCodes of fleet provisioning's /rejected replies. AWS documents
// the shape {statusCode, errorCode, errorMessage} but not the vocabulary;
// InvalidCertificateOwnershipToken with status 400 is the one code seen on
// the wire (reference 6.1), and ACCESS_DENIED the documented outcome of a
// pre-provisioning hook that refuses (reference 6.2). The others are
// iotcore's choice, listed with their statuses in docs/aws-differences.md.
const (
	codeInvalidPayload              = "InvalidPayload"
	codeInvalidToken                = "InvalidCertificateOwnershipToken"
	codeInvalidCSR                  = "InvalidCertificateSigningRequest"
	codeNotFound                    = "ResourceNotFound"
	codeInvalidTemplate             = "InvalidTemplate"
	codeInvalidParameters           = "InvalidParameters"
	codeResourceRegistrationFailure = "ResourceRegistrationFailure"
	codeAccessDenied                = "AccessDenied"
	codeServiceUnavailable          = "ServiceUnavailable"
	codeThrottled                   = "Throttling"
	codeInternalFailure             = "InternalFailure"
)

// fleetErrorStatus is the one table of the statusCode of each errorCode.
var fleetErrorStatus = map[string]int{
	codeInvalidPayload:              http.StatusBadRequest,
	codeInvalidToken:                http.StatusBadRequest,
	codeInvalidCSR:                  http.StatusBadRequest,
	codeNotFound:                    http.StatusNotFound,
	codeInvalidTemplate:             http.StatusBadRequest,
	codeInvalidParameters:           http.StatusBadRequest,
	codeResourceRegistrationFailure: http.StatusBadRequest,
	codeAccessDenied:                http.StatusForbidden,
	codeServiceUnavailable:          http.StatusServiceUnavailable,
	codeThrottled:                   http.StatusTooManyRequests,
	codeInternalFailure:             http.StatusInternalServerError,
}

func statusOf(code string) int {
	if s, ok := fleetErrorStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// rejection is why a request is rejected: what the device is told (code,
// message), and for the operator the step that failed and the detail.
type rejection struct {
	code    string
	message string // for the device: safe, a sentence
	step    string // for the attempts record: payload, token, csr, template, hook, render, certificate, thing, ...
	err     error  // the detail, logged and recorded; nil when message says it all
}

func reject(code, step, message string, err error) *rejection {
	return &rejection{code: code, step: step, message: message, err: err}
}

// internalFailure hides err from the device; the operator gets it.
func internalFailure(step string, err error) *rejection {
	return reject(codeInternalFailure, step, "An internal error occurred.", err)
}

// badPayload refuses a request that does not decode.
func badPayload(t fleetTopic, err error) *rejection {
	return reject(codeInvalidPayload, "payload", fmt.Sprintf("The request payload is not a valid %s object.", formatName(t.format)), err)
}

func formatName(format string) string {
	if format == formatCBOR {
		return "CBOR"
	}
	return "JSON"
}

// detail is the operator's account of a rejection.
func (r *rejection) detail() string {
	if r.err == nil {
		return r.code + ": " + r.message
	}
	return r.code + ": " + r.message + " (" + r.err.Error() + ")"
}
