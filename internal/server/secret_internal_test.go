package server

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A secret key is created once (0600) and read back the same afterwards; a
// damaged file is an error, never silently replaced (that would invalidate
// every token handed out).
func TestSecretKeyKeptAcrossStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	first, err := loadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o, want 0600", st.Mode().Perm())
	}
	again, err := loadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) || len(first) != secretSize {
		t.Errorf("read back %x, want the %d bytes created: %x", again, secretSize, first)
	}
	if err := os.WriteFile(path, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateSecret(path); err == nil {
		t.Error("a damaged key file was accepted")
	}
}
