package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// listenFlags are the serve flags that name a listen address.
var listenFlags = []string{"api-addr", "mqtt-addr", "mqtt-ws-addr"}

// explainListen adds to a failed listen the flag to change: the server
// says which listener and address failed, the operator needs the flag.
// addrs maps each of listenFlags to its value ("" for a listener that is
// off). Other errors are returned as they are.
func explainListen(err error, addrs map[string]string) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" {
		return err
	}
	failed, ok := op.Addr.(*net.TCPAddr)
	if !ok {
		return err
	}
	flags := flagsFor(failed, addrs)
	if len(flags) == 0 {
		return err
	}
	change := "change --" + strings.Join(flags, " or --")
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%w (%s, or stop the program listening on %s)", err, change, failed)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%w (%s to a port above 1023, or let iotcore bind low ports: setcap cap_net_bind_service=+ep)", err, change)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%w (%s to an address of this host)", err, change)
	}
	return fmt.Errorf("%w (%s)", err, change)
}

// flagsFor returns the flags whose address is failed's: those with its
// port, narrowed to those with its IP address too when two have the port.
func flagsFor(failed *net.TCPAddr, addrs map[string]string) []string {
	var byPort, byIP []string
	for _, name := range listenFlags {
		a, err := net.ResolveTCPAddr("tcp", addrs[name])
		if addrs[name] == "" || err != nil || a.Port == 0 || a.Port != failed.Port {
			continue
		}
		byPort = append(byPort, name)
		if a.IP.Equal(failed.IP) || (unspecified(a.IP) && unspecified(failed.IP)) {
			byIP = append(byIP, name)
		}
	}
	if len(byPort) > 1 && len(byIP) > 0 {
		return byIP
	}
	return byPort
}

// unspecified reports whether ip means every address of the host.
func unspecified(ip net.IP) bool { return ip == nil || ip.IsUnspecified() }
