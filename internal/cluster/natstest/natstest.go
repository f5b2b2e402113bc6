// Package natstest runs Debian's nats-server for tests, on a free loopback
// port, stopped when the test ends. Where nats-server is not installed,
// tests skip, and fail in CI.
package natstest

import (
	"net"
	"os/exec"
	"strconv"
	"testing"

	"github.com/iotcore/iotcore/internal/iottest"
)

// Server is a running nats-server.
type Server struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// Start starts a nats-server for the test.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		iottest.Missing(t, "no nats-server (apt-get install nats-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's nats:// URL.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Start starts the server again on its port, and waits until it listens.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	iottest.WaitFor(s.t, "nats-server to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Stop kills the server (as a crash would).
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}
