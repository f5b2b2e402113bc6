package postgres

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// The pool's connections carry the timeouts that make a connection that
// hangs fail in seconds (dial.go): read back from the socket.
func TestDialSetsTimeouts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := dial(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for name, opt := range map[string][2]int{
		"SO_KEEPALIVE":     {unix.SOL_SOCKET, unix.SO_KEEPALIVE},
		"TCP_KEEPIDLE":     {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE},
		"TCP_KEEPINTVL":    {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL},
		"TCP_KEEPCNT":      {unix.IPPROTO_TCP, unix.TCP_KEEPCNT},
		"TCP_USER_TIMEOUT": {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
	} {
		var v int
		var gerr error
		if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), opt[0], opt[1]) }); err != nil || gerr != nil {
			t.Fatalf("%s: %v %v", name, err, gerr)
		}
		got[name] = v
	}
	want := map[string]int{
		"SO_KEEPALIVE":     1,
		"TCP_KEEPIDLE":     int(keepAliveIdle.Seconds()),
		"TCP_KEEPINTVL":    int(keepAliveInterval.Seconds()),
		"TCP_KEEPCNT":      keepAliveCount,
		"TCP_USER_TIMEOUT": int(userTimeout.Milliseconds()),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %d, want %d", k, got[k], w)
		}
	}
}
