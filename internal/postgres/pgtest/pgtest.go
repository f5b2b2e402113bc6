// Package pgtest runs a temporary PostgreSQL server for tests: a cluster
// made with Debian's initdb and started with pg_ctl on a free loopback port
// (as the postgres user when the tests run as root, since PostgreSQL refuses
// to run as root), or the server IOTCORE_TEST_POSTGRES_URL names. Each test
// gets a database of its own. Where PostgreSQL is not installed, tests skip,
// and fail in CI.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/iotcore/iotcore/internal/iottest"
)

// Server is a running PostgreSQL server.
type Server struct {
	// URL reaches its postgres database as a superuser.
	URL string

	bin, dir, data string // pg_ctl's directory, the temporary directory, the cluster's
	port           int
	runAs          string // "postgres" when the tests run as root
	external       bool   // IOTCORE_TEST_POSTGRES_URL: not ours to stop
}

var (
	mu     sync.Mutex
	shared *Server
	dbs    atomic.Int64
)

// Main runs a package's tests (from TestMain) and stops the shared server
// they started, if any: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.remove()
	}
	return code
}

// Database returns the URL of a new, empty database on the package's shared
// server, started on first use.
func Database(t testing.TB) string {
	t.Helper()
	mu.Lock()
	if shared == nil {
		s, err := start()
		if err != nil {
			mu.Unlock()
			iottest.Missing(t, "PostgreSQL: %v", err)
		}
		shared = s
	}
	s := shared
	mu.Unlock()
	return s.NewDatabase(t)
}

// NewDatabase creates a database on s and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("iotcore_test_%d_%d", os.Getpid(), dbs.Add(1))
	db, err := sql.Open("pgx", s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	u, _ := url.Parse(s.URL)
	u.Path = "/" + name
	return u.String()
}

// Start starts a server of the test's own, stopped when the test ends: for
// tests that stop and start it.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		iottest.Missing(t, "PostgreSQL: %v", err)
	}
	if s.external {
		t.Skip("IOTCORE_TEST_POSTGRES_URL names a server this test cannot stop")
	}
	t.Cleanup(s.remove)
	return s
}

// binDir finds the directory of initdb and pg_ctl: Debian keeps them in
// /usr/lib/postgresql/<version>/bin, off PATH.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(found) == 0 {
		return "", fmt.Errorf("no pg_ctl on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(found[len(found)-1]), nil
}

func version(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func start() (*Server, error) {
	if u := os.Getenv("IOTCORE_TEST_POSTGRES_URL"); u != "" {
		return &Server{URL: u, external: true}, nil
	}
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "iotcore-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as")
		}
		s.runAs = "postgres"
		if err := chownToPostgres(dir); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if out, err := s.command("initdb", "-D", s.data, "-U", "iotcore", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.URL = fmt.Sprintf("postgres://iotcore@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	return s, nil
}

// Start starts (or restarts) the server, on the port it had if any, and
// waits until it accepts connections.
func (s *Server) Start() error {
	if s.port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		s.port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200", s.port, s.dir)
	if out, err := s.command("pg_ctl", "-D", s.data, "-o", opts, "-l", filepath.Join(s.dir, "server.log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the server at once (connections are cut, as in a crash of
// the database host).
func (s *Server) Stop() error {
	if out, err := s.command("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

func (s *Server) remove() {
	if s.external {
		return
	}
	_ = s.Stop()
	os.RemoveAll(s.dir)
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	_ = cancel // the command is short; its context ends with the timeout
	prog := filepath.Join(s.bin, name)
	if s.runAs != "" {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", s.runAs, "--", prog}, args...)...)
	}
	return exec.CommandContext(ctx, prog, args...)
}

func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	// The temporary directory's parents must let the postgres user in.
	for p := filepath.Dir(dir); p != "/" && strings.HasPrefix(p, os.TempDir()); p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(p, st.Mode().Perm()|0o001)
		}
	}
	return nil
}
