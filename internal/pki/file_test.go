package pki_test

import (
	"crypto"
	"os"
	"path/filepath"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

func TestWriteFileAtomic(t *testing.T) {
	withUmask(t, 0o077) // the mode must not depend on the umask
	dir := t.TempDir()
	path := filepath.Join(dir, "ca.pem")
	tests := []struct {
		name string
		data string
		perm os.FileMode
	}{
		{"create", "first", 0o644},
		{"replace with a new mode", "second", 0o600},
		{"replace with empty", "", 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := pki.WriteFileAtomic(path, []byte(tt.data), tt.perm); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != tt.data {
				t.Errorf("content %q, want %q", got, tt.data)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != tt.perm {
				t.Errorf("mode %o, want %o", got, tt.perm)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want 1 (a temporary file left behind?)", len(entries))
			}
		})
	}
	if err := pki.WriteFileAtomic(filepath.Join(dir, "missing", "x"), nil, 0o600); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestWritePrivateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pem")
	key := pkitest.NewKey(t, pki.KeyECP256)
	if err := pki.WritePrivateKeyFile(path, key); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode %o, want 600", got)
	}
	back, err := pki.ParsePrivateKeyPEM(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(back.Public()) {
		t.Error("written key differs")
	}
}
