//go:build unix

package pki_test

import (
	"syscall"
	"testing"
)

// withUmask sets the process umask for the rest of the test.
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}
