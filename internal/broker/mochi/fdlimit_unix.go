//go:build unix

package mochi

import "syscall"

// fileLimit is the process's limit on open file descriptors (the soft
// RLIMIT_NOFILE, which Go raises to the hard limit at start-up); false if
// unknown. Unlimited is a very large number.
func fileLimit() (uint64, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, false
	}
	return uint64(r.Cur), true
}
