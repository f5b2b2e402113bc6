package devicesim

// Kind says how a run failed. Its value is the exit code of
// `iotcore device run` (1 is left for bad usage and unreadable files).
type Kind int

// Kinds of failure.
const (
	// Network: the device could not get a TLS connection: the address does
	// not resolve, nothing listens, the server's certificate is not trusted,
	// or the server refused the device's certificate in the TLS handshake.
	Network Kind = 2
	// Dropped: the server closed every connection before CONNACK, the way
	// AWS IoT treats a certificate it does not (yet) accept.
	Dropped Kind = 3
	// Refused: the server answered "no": CONNACK, SUBACK or PUBACK with a
	// failure reason code, usually not authorized (0x87) by the policies.
	Refused Kind = 4
	// Disconnected: the server ended the connection after it was
	// established (DISCONNECT, or the connection was lost).
	Disconnected Kind = 5
	// NotReceived: the expected messages did not arrive in time.
	NotReceived Kind = 6
)

// Error is a failed run: what happened and why, for the user, and the cause.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

// Error is what happened and why.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the exit code of `iotcore device run` for e.
func (e *Error) ExitCode() int { return int(e.Kind) }

func fail(kind Kind, err error, msg string) *Error {
	return &Error{Kind: kind, Msg: msg, Err: err}
}
