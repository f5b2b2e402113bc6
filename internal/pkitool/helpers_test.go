package pkitool_test

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pkitool"
)

// fixedNow is the clock of tests that do not run openssl (which checks
// against the real time).
func fixedNow() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// newRoot makes a root CA named name in dir with the real clock.
func newRoot(t *testing.T, dir, name string, kt pki.KeyType) *pkitool.CAResult {
	t.Helper()
	res, err := pkitool.CreateCA(pkitool.CARequest{
		Subject: pkitool.Subject{CommonName: name + " Root CA", Country: "IN", Organization: "AMZ"},
		KeyType: kt,
		Output:  pkitool.Output{Dir: dir, Name: name},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", filepath.Base(path), got, want)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snapshot returns the content of every file in dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		m[e.Name()] = read(t, filepath.Join(dir, e.Name()))
	}
	return m
}

func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// netOpError is what a client gets when nothing listens.
var netOpError = net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
