//go:build !linux

package postgres

import "syscall"

// setUserTimeout does nothing where TCP_USER_TIMEOUT does not exist: the
// system's retransmission limits apply.
func setUserTimeout(string, string, syscall.RawConn) error { return nil }
