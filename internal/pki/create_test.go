package pki_test

import (
	"crypto"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

func TestCreateFile(t *testing.T) {
	withUmask(t, 0o077) // the mode must not depend on the umask
	dir := t.TempDir()
	path := filepath.Join(dir, "device.crt")
	if err := pki.CreateFile(path, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o644 {
		t.Errorf("mode %o, want 644", got)
	}
	err = pki.CreateFile(path, []byte("second"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("creating an existing file: error %v, want fs.ErrExist", err)
	}
	if got := readFile(t, path); got != "first" {
		t.Errorf("content %q after a refused create, want %q", got, "first")
	}
	// A dangling symbolic link is a name that exists: never write through it.
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	if err := pki.CreateFile(link, []byte("x"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("creating over a dangling symlink: error %v, want fs.ErrExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("CreateFile wrote through a symbolic link")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (a temporary file left behind?)", len(entries))
	}
	if err := pki.CreateFile(filepath.Join(dir, "missing", "x"), nil, 0o600); err == nil {
		t.Error("creating in a missing directory succeeded")
	}
}

// TestCreateFileRace has many writers race for one name: exactly one wins,
// and the file holds its data whole.
func TestCreateFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pem")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = pki.CreateFile(path, []byte{byte('a' + i)}, 0o600) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both created the file", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no writer created the file")
	}
	if got, want := readFile(t, path), string(rune('a'+won)); got != want {
		t.Errorf("content %q, want the winner's %q", got, want)
	}
}

func TestCreatePrivateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.key")
	key := pkitest.NewKey(t, pki.KeyECP256)
	if err := pki.CreatePrivateKeyFile(path, key); err != nil {
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
	other := pkitest.NewKey(t, pki.KeyECP256)
	if err := pki.CreatePrivateKeyFile(path, other); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second key: error %v, want fs.ErrExist", err)
	}
	back, _ = pki.ParsePrivateKeyPEM(readFile(t, path))
	if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(back.Public()) {
		t.Error("an existing key was replaced")
	}
}
