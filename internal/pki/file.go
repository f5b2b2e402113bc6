package pki

import (
	"crypto"
	"fmt"
	"os"
	"path/filepath"
)

// Modes of the files iotcore writes.
const (
	PrivateKeyFileMode  os.FileMode = 0o600
	CertificateFileMode os.FileMode = 0o644
)

// WriteFileAtomic replaces path with data so that a reader, or the next
// start after a crash, sees either the old content or the new, never a
// mixture: it writes a temporary file in the same directory with mode perm
// (exactly perm: the umask does not apply), syncs it, renames it over path
// and syncs the directory. The directory must exist.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The rename is durable only once the directory entry is on disk.
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}

// WritePrivateKeyFile writes key to path as PKCS#8 PEM with mode 0600,
// atomically. It is the one way iotcore writes private keys.
func WritePrivateKeyFile(path string, key crypto.Signer) error {
	text, err := MarshalPrivateKeyPEM(key)
	if err != nil {
		return fmt.Errorf("write private key %s: %w", path, err)
	}
	return WriteFileAtomic(path, []byte(text), PrivateKeyFileMode)
}
