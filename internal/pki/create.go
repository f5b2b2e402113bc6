package pki

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CreateFile writes data to path, which must not exist yet, with mode perm
// (exactly perm: the umask does not apply). It never replaces a file: when
// path exists, even if it appears while data is being written, it fails with
// an error wrapping [fs.ErrExist] and leaves that file alone.
//
// Like [WriteFileAtomic], a reader or a crash never sees a partly written
// file: the data goes to a synced temporary file in the same directory, which
// is then hard-linked to path (link(2) fails rather than replace, which is
// what makes the no-overwrite check and the write one step) and removed. On
// a file system without hard links the check and the rename are two steps.
// The directory must exist.
func CreateFile(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("create %s: %w", path, fs.ErrExist)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		os.Remove(tmp) // after a link, path keeps the data
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", path, fs.ErrExist)
		}
		// No hard links here (some FUSE and FAT file systems): check, then rename.
		if _, statErr := os.Lstat(path); statErr == nil {
			return fmt.Errorf("create %s: %w", path, fs.ErrExist)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
	}
	return syncDir(dir, path)
}

// CreatePrivateKeyFile writes key to path as PKCS#8 PEM with mode 0600, like
// [WritePrivateKeyFile], but only if path does not exist ([CreateFile]): it
// is how a key is written when an existing one must never be replaced.
func CreatePrivateKeyFile(path string, key crypto.Signer) error {
	text, err := MarshalPrivateKeyPEM(key)
	if err != nil {
		return fmt.Errorf("create private key %s: %w", path, err)
	}
	return CreateFile(path, []byte(text), PrivateKeyFileMode)
}

// syncDir makes a new directory entry durable.
func syncDir(dir, path string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("create %s: sync directory: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("create %s: sync directory: %w", path, err)
	}
	return nil
}
