package shadow

import (
	"errors"
	"fmt"
	"time"
)

// Error is a request's rejection: what the …/rejected topic carries, and,
// for the REST API, the HTTP status (Code) and the message.
type Error struct {
	Code        int    // the HTTP status: 400, 404, 409, 413, 415, 429, 500
	Message     string // AWS's message, e.g. "Version conflict"
	ClientToken string // the request's clientToken, echoed; "" when it had none
}

// Error returns the code and the message.
func (e *Error) Error() string { return fmt.Sprintf("shadow: %d %s", e.Code, e.Message) }

// Payload is the error response document the rejected topic carries:
// {"code":409,"message":"Version conflict","timestamp":1700000000,"clientToken":"t"},
// clientToken only when the request had one.
//
// AWS uncertain: AWS says the timestamp "is not present in all error
// response documents" without saying which; it is always present here.
func (e *Error) Payload(now time.Time) []byte {
	doc := map[string]any{
		"code":      e.Code,
		"message":   e.Message,
		"timestamp": now.Unix(),
	}
	if e.ClientToken != "" {
		doc["clientToken"] = e.ClientToken
	}
	return encode(doc)
}

// AWS's messages, from "Device Shadow error messages".
const (
	msgInvalidJSON        = "Invalid JSON"
	msgMissingState       = "Missing required node: state"
	msgStateNotObject     = "State node must be an object"
	msgDesiredNotObject   = "Desired node must be an object"
	msgReportedNotObject  = "Reported node must be an object"
	msgInvalidVersion     = "Invalid version"
	msgInvalidClientToken = "Invalid clientToken"
	msgTooDeep            = "JSON contains too many levels of nesting; maximum is 6"
	msgVersionConflict    = "Version conflict"
	msgTooLarge           = "The payload exceeds the maximum size allowed"
	msgNotUTF8            = "Unsupported documented encoding; supported encoding is UTF-8"
)

// msgInvalidNode is the message for a key of "state" other than desired and
// reported; AWS answers "State contains an invalid node: 'delta'" for a
// delta (quoted by AWS's Greengrass ShadowManager, pull request 178).
func msgInvalidNode(key string) string { return "State contains an invalid node: '" + key + "'" }

// notFound is the 404 of a get or delete of a shadow that does not exist.
//
// AWS uncertain: for a classic shadow AWS answers "No shadow exists with
// name: '<thing>'" (the AWS IoT Device SDKs' samples show it). For a named
// shadow the developer guide's tutorial shows "No shadow exists with name:
// 'simShadow1'" while AWS IoT has been seen answering "No shadow exists with
// name: '<thing>~<shadow>'"; this uses the latter, what the service sends.
func notFound(r Request, clientToken string) *Error {
	name := r.Thing
	if r.Name != "" {
		name = r.Thing + "~" + r.Name
	}
	return &Error{Code: 404, Message: "No shadow exists with name: '" + name + "'", ClientToken: clientToken}
}

func badRequest(msg, clientToken string) *Error {
	return &Error{Code: 400, Message: msg, ClientToken: clientToken}
}

// ClientToken returns the clientToken of a request payload, or "" when it
// has none or an invalid one (not a JSON object, not a string, longer than
// 64 bytes). Use it to echo the token in a rejection made outside this
// package, such as a 429.
func ClientToken(payload []byte) string {
	tok, err := clientToken(payload)
	if err != nil {
		return ""
	}
	return tok
}

// clientToken reads the clientToken of a request payload that is a JSON
// object; anything else has none. It fails only for a clientToken that is
// present but invalid.
func clientToken(payload []byte) (string, error) {
	v, err := decode(payload)
	if err != nil {
		return "", nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", nil
	}
	return tokenOf(obj)
}

// tokenOf reads and checks the clientToken of a decoded request.
//
// AWS uncertain: AWS rejects a token longer than 64 bytes with "Invalid
// clientToken" and says nothing of other types; a clientToken that is not a
// string is rejected the same way, while null and "" count as no token
// (an empty token cannot be told apart from none in the echo).
func tokenOf(obj map[string]any) (string, error) {
	v, ok := obj["clientToken"]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok || len(s) > MaxClientTokenBytes {
		return "", errInvalidToken
	}
	return s, nil
}

var errInvalidToken = errors.New("invalid clientToken")
