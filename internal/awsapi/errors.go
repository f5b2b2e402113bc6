package awsapi

import (
	"net/http"

	"github.com/iotcore/iotcore/internal/iot"
)

// statusOf maps an AWS exception name to its HTTP status, as the model's error
// shapes give them (reference 1.3).
func statusOf(code string) int {
	switch code {
	case iot.InvalidRequest, iot.Throttling, iot.CertificateValidation, iot.RegistrationCodeValidation,
		iot.MalformedPolicy, iot.ResourceRegistrationFailure, "SqlParseException", iot.InvalidStateTransition:
		return http.StatusBadRequest
	case iot.Unauthorized:
		return http.StatusUnauthorized
	case iot.ServiceQuotaExceeded:
		return http.StatusPaymentRequired
	case iot.ResourceNotFound, iot.NotConfigured:
		return http.StatusNotFound
	case iot.CertificateState:
		return http.StatusNotAcceptable
	case iot.ResourceAlreadyExists, iot.DeleteConflict, iot.CertificateConflict, iot.ConflictingResourceUpdate,
		iot.VersionConflict, iot.VersionsLimitExceeded, iot.TransferConflict, iot.ResourceInUse:
		return http.StatusConflict
	case iot.LimitExceeded, "TransferAlreadyCompletedException":
		return http.StatusGone
	case iot.ServiceUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
