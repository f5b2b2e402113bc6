package iotsql

import "fmt"

// ParseError is a syntax or semantic error in a rule's SQL statement or in a
// substitution template, with the position of the offending token.
type ParseError struct {
	Line, Column int    // 1-based, of the offending token
	Offset       int    // 0-based byte offset
	Message      string // e.g. "mismatched input 'FORM' expecting FROM"
}

// Error returns the message in the shape AWS IoT's SqlParseException uses,
// "Line 1:23 mismatched input ...", because CreateTopicRule passes it to API
// clients as is; hence the capital letter.
func (e *ParseError) Error() string {
	return fmt.Sprintf("Line %d:%d %s", e.Line, e.Column, e.Message)
}

// newParseError locates offset in src.
func newParseError(src string, offset int, format string, args ...any) *ParseError {
	if offset > len(src) {
		offset = len(src)
	}
	line, col := 1, 1
	for i := 0; i < offset; i++ {
		if src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &ParseError{Line: line, Column: col, Offset: offset, Message: fmt.Sprintf(format, args...)}
}
