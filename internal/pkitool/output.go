package pkitool

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/iotcore/iotcore/internal/pki"
)

// Output says where a command writes its files and whether it may replace
// existing ones. Each command names its files Name plus an extension
// (Name.key, Name.crt, Name-chain.crt...) in Dir.
type Output struct {
	// Dir is the directory; "" means the current directory. It is created
	// (mode 0755) when missing.
	Dir string
	// Name is the stem of the file names; "" means the command's default
	// ("ca", "device", "verification"). It may not contain a path separator.
	Name string
	// Force replaces existing files. Without it a command whose outputs
	// include an existing file fails before generating anything, and no
	// existing file is ever touched.
	Force bool
}

// Written is a file a command wrote.
type Written struct {
	Path     string
	What     string // such as "private key (EC P-256)" or "device certificate"
	Replaced bool   // it replaced an existing file (Output.Force)
}

// String is "path: what", with "(replaced)" when it replaced a file.
func (w Written) String() string {
	s := w.Path + ": " + w.What
	if w.Replaced {
		s += " (replaced)"
	}
	return s
}

// ExistsError is the error of a command whose output files exist already.
type ExistsError struct {
	Paths []string
}

// Error names the existing files.
func (e *ExistsError) Error() string {
	if len(e.Paths) == 1 {
		return fmt.Sprintf("%s already exists; keys and certificates are never overwritten", e.Paths[0])
	}
	return fmt.Sprintf("%s already exist; keys and certificates are never overwritten", strings.Join(e.Paths, ", "))
}

// Is makes errors.Is(err, fs.ErrExist) true.
func (e *ExistsError) Is(target error) bool { return target == fs.ErrExist }

// file is one output of a command: a private key or PEM text.
type file struct {
	path string
	what string
	key  crypto.Signer // a private key, written PKCS#8 with mode 0600
	pem  string        // otherwise, a certificate, chain or CSR, mode 0644
}

// paths resolves the output file names for the given suffixes (".key",
// "-chain.crt"), in order.
func (o Output) paths(defaultName string, suffixes ...string) ([]string, error) {
	name := o.Name
	if name == "" {
		name = defaultName
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("output name %q: give a plain file name stem, and the directory separately", name)
	}
	out := make([]string, len(suffixes))
	for i, s := range suffixes {
		out[i] = filepath.Join(o.Dir, name+s)
	}
	return out, nil
}

// check fails with an ExistsError, before anything is generated, when an
// output exists and Force is not set.
func (o Output) check(paths ...string) error {
	if o.Force {
		return nil
	}
	var exist []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			exist = append(exist, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", p, err)
		}
	}
	if len(exist) > 0 {
		return &ExistsError{Paths: exist}
	}
	return nil
}

// write writes the files in order. Without Force each is created only if its
// name is free; if one cannot be written, the files this call created are
// removed, so that a command writes all its files or none of them (files
// that Force replaced cannot be restored).
func (o Output) write(files []file) (written []Written, err error) {
	if err := o.check(pathsOf(files)...); err != nil {
		return nil, err
	}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("create output directory: %w", err)
		}
	}
	var created []string
	defer func() {
		if err != nil {
			for _, p := range created {
				os.Remove(p)
			}
		}
	}()
	for _, f := range files {
		_, statErr := os.Lstat(f.path)
		replaced := statErr == nil
		switch {
		case f.key != nil && o.Force:
			err = pki.WritePrivateKeyFile(f.path, f.key)
		case f.key != nil:
			err = pki.CreatePrivateKeyFile(f.path, f.key)
		case o.Force:
			err = pki.WriteFileAtomic(f.path, []byte(f.pem), pki.CertificateFileMode)
		default:
			err = pki.CreateFile(f.path, []byte(f.pem), pki.CertificateFileMode)
		}
		if errors.Is(err, fs.ErrExist) {
			return nil, &ExistsError{Paths: []string{f.path}}
		}
		if err != nil {
			return nil, err
		}
		if !replaced {
			created = append(created, f.path)
		}
		written = append(written, Written{Path: f.path, What: f.what, Replaced: replaced})
	}
	return written, nil
}

func pathsOf(files []file) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out
}
