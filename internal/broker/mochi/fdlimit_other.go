//go:build !unix

package mochi

// fileLimit is unknown here.
func fileLimit() (uint64, bool) { return 0, false }
