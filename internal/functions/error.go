package functions

import "strings"

// FunctionError is an invocation's failure as Lambda reports it: what the
// handler raised or threw, or what went wrong around it (a timeout, the
// runtime exiting, an import error). Type and Message are Lambda's
// errorType and errorMessage, such as "ValueError" and "bad input",
// "Runtime.ImportModuleError", or "Sandbox.Timedout" and "Task timed out
// after 3.00 seconds"; Trace is its stackTrace, innermost call last.
type FunctionError struct {
	Type, Message string
	Trace         []string
}

// Lambda's errorType values for failures outside the handler.
const (
	errTimeout       = "Sandbox.Timedout"
	errExit          = "Runtime.ExitError"
	errResponseSize  = "Function.ResponseSizeTooLarge"
	errInvalidResult = "Runtime.InvalidResponse"
)

func (e *FunctionError) Error() string {
	if e.Message == "" {
		return e.Type
	}
	// A message of many lines (a Node import error's require stack)
	// is cut to its first in a one-line error.
	msg, _, _ := strings.Cut(e.Message, "\n")
	return e.Type + ": " + msg
}
