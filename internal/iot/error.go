package iot

import (
	"errors"
	"fmt"
)

// Codes are AWS IoT exception names. Adapters map them to transport details
// (HTTP status and x-amzn-ErrorType for the API; reason codes for MQTT).
const (
	InvalidRequest              = "InvalidRequestException"
	ResourceNotFound            = "ResourceNotFoundException"
	ResourceAlreadyExists       = "ResourceAlreadyExistsException"
	CertificateValidation       = "CertificateValidationException"
	CertificateState            = "CertificateStateException"
	CertificateConflict         = "CertificateConflictException"
	RegistrationCodeValidation  = "RegistrationCodeValidationException"
	MalformedPolicy             = "MalformedPolicyException"
	DeleteConflict              = "DeleteConflictException"
	VersionConflict             = "VersionConflictException"
	VersionsLimitExceeded       = "VersionsLimitExceededException"
	LimitExceeded               = "LimitExceededException"
	ConflictingResourceUpdate   = "ConflictingResourceUpdateException"
	ResourceRegistrationFailure = "ResourceRegistrationFailureException"
	Throttling                  = "ThrottlingException"
	Unauthorized                = "UnauthorizedException"
	InternalFailure             = "InternalFailureException"
	ServiceUnavailable          = "ServiceUnavailableException"
	NotConfigured               = "NotConfiguredException"
	ServiceQuotaExceeded        = "ServiceQuotaExceededException"
	TransferConflict            = "TransferConflictException"
	InvalidStateTransition      = "InvalidStateTransitionException"
	ResourceInUse               = "ResourceInUseException"
	IndexNotReady               = "IndexNotReadyException"
	InvalidQuery                = "InvalidQueryException"
	InvalidAggregation          = "InvalidAggregationException"
)

// Error is the one error type that crosses package boundaries. Code is the AWS
// exception name, Message is safe to show to clients, and Err is the cause,
// which is only logged.
type Error struct {
	Code    string
	Message string
	Err     error

	// ResourceID and ResourceARN accompany ResourceAlreadyExistsException, as AWS sends them.
	ResourceID  string
	ResourceARN string

	// HTTPStatus, when set, is the status the API answers instead of the
	// one of Code's shape in the control plane's model: the data plane's
	// ThrottlingException is 429 where the control plane's is 400.
	HTTPStatus int
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that a resource of the given kind and name does not exist.
func NotFound(kind, name string) *Error {
	return Errorf(ResourceNotFound, "%s %s does not exist", kind, name)
}

// AlreadyExists reports a name clash, carrying the existing resource's id and ARN.
func AlreadyExists(kind, name, id, arn string) *Error {
	return &Error{
		Code:        ResourceAlreadyExists,
		Message:     fmt.Sprintf("%s %s already exists", kind, name),
		ResourceID:  id,
		ResourceARN: arn,
	}
}

// CodeOf returns the AWS exception name carried by err, or InternalFailureException.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return InternalFailure
}

// IsCode reports whether err carries the given AWS exception name.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
