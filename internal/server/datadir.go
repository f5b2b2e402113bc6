package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in the data directory that one server holds locked
// for as long as it runs; it holds that server's process id.
const LockFile = "iotcore.lock"

// ErrDataDirInUse is what Open returns when another server holds the data
// directory.
var ErrDataDirInUse = errors.New("data directory in use")

// dataDirLock is an exclusive advisory lock (flock) on a data directory.
// The kernel releases it when the process ends, however it ends, so a
// crashed server never leaves a stale lock behind.
type dataDirLock struct {
	f *os.File
}

// lockDataDir takes the data directory for this process, before anything in
// it is read or written. Two servers on one directory would each keep their
// own cache of the registry (a certificate revoked through one would stay
// usable on the other) and, started together on an empty directory, would
// race to migrate the database and to create the CA devices trust.
func lockDataDir(dir string) (*dataDirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is used by another iotcore server%s; stop it, or give this one another data directory (--data-dir)",
				ErrDataDirInUse, dir, holder(path))
		}
		return nil, fmt.Errorf("lock the data directory %s: %w", dir, err)
	}
	// The process id is for the message above only: the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataDirLock{f: f}, nil
}

// holder names the process that holds the lock at path, as " (pid N)", or
// "" when the lock file does not say.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return ""
	}
	if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(cmd) > 0 {
		return fmt.Sprintf(" (pid %d: %s)", pid, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

// release lets the directory go. The lock file stays: removing it would let
// a third server lock a new file while a second still waits on the old one.
func (l *dataDirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}

// openModeMask is the permission bits on the data directory that let other
// users change it: write for the group or for others. The files in it are
// 0600, so reading the directory shows only their names; but whoever may
// write it may replace them: the CA devices trust, the admin credentials,
// the database.
const openModeMask fs.FileMode = 0o022

// warnOpenDataDir logs a warning when users other than the owner may write
// the data directory (mode 0777, 0775, ...).
func warnOpenDataDir(dir string, log *slog.Logger) {
	st, err := os.Stat(dir)
	if err != nil {
		return
	}
	if mode := st.Mode().Perm(); mode&openModeMask != 0 {
		log.Warn("the data directory is open to other users: they may replace its keys, credentials and database; chmod 700 it",
			"data_dir", dir, "mode", fmt.Sprintf("%#o", mode))
	}
}

// LockDataDir takes a data directory's lock, as serve does, for a command
// that must not run beside a server on it (iotcore store copy); release
// gives it back.
func LockDataDir(dir string) (release func() error, err error) {
	l, err := lockDataDir(dir)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}
