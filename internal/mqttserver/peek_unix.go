//go:build unix

package mqttserver

import "syscall"

const canPeek = true

// readable reports whether the socket fd has data (or an end, or an
// error) to read, without reading it: false means a read would block.
func readable(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
}
