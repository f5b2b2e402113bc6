package template

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error is the error Parse and Render return. Its text is safe to show to
// API clients and devices' operators: it says where in the template the
// problem is and what it is, and never includes anything but the template
// and the parameter values.
type Error struct {
	// Path locates the problem in the template body, e.g.
	// "Resources.thing.Properties.ThingName" or
	// "Resources.thing.Properties.ThingName.Fn::Join[1][0]"; "" means the
	// whole body.
	Path string
	// Message says what is wrong.
	Message string
	// Parameter names the parameter that has no value when Render fails
	// for that reason; it is "" for every other error.
	Parameter string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// errorf returns an *Error at path.
func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Message: fmt.Sprintf(format, args...)}
}

// join appends a member name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends a list index to a path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// maxQuoted is how many characters of a value an error message shows.
const maxQuoted = 100

// quote quotes a value for an error message, shortening a long one.
func quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// quoteName quotes a name for an error message.
func quoteName(s string) string { return quote(s) }
