package iot

// Certificate statuses (CertificateStatus in the model).
const (
	StatusActive            = "ACTIVE"
	StatusInactive          = "INACTIVE"
	StatusRevoked           = "REVOKED"
	StatusPendingTransfer   = "PENDING_TRANSFER"
	StatusRegisterInactive  = "REGISTER_INACTIVE"
	StatusPendingActivation = "PENDING_ACTIVATION"
)

// Auto-registration statuses of a CA certificate.
const (
	AutoRegistrationEnable  = "ENABLE"
	AutoRegistrationDisable = "DISABLE"
)

// Certificate modes.
const (
	ModeDefault = "DEFAULT"
	ModeSNIOnly = "SNI_ONLY"
)

// Thing–principal attachment types.
const (
	ExclusiveThing    = "EXCLUSIVE_THING"
	NonExclusiveThing = "NON_EXCLUSIVE_THING"
)
