//go:build !unix

package pki_test

import "testing"

func withUmask(t *testing.T, mask int) {}
