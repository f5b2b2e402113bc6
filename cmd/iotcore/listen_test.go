package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainListen: a listener that cannot bind names the flag to change
// (issue 11); the error is the server's, wrapped as it produces it.
func TestExplainListen(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	_, bindErr := net.Listen("tcp", addr)
	if bindErr == nil {
		t.Fatal("a second listener on one address: no error")
	}
	for _, tc := range []struct {
		name  string
		addrs map[string]string
		want  string
	}{
		{"api", map[string]string{"api-addr": addr, "mqtt-addr": "127.0.0.1:0"}, "(change --api-addr, or stop the program listening on " + addr + ")"},
		{"mqtt", map[string]string{"api-addr": "127.0.0.1:0", "mqtt-addr": addr}, "(change --mqtt-addr, or stop"},
		{"websocket", map[string]string{"api-addr": "127.0.0.1:0", "mqtt-addr": ":8883", "mqtt-ws-addr": addr}, "(change --mqtt-ws-addr, or stop"},
		{"two on one address", map[string]string{"api-addr": addr, "mqtt-addr": addr}, "(change --api-addr or --mqtt-addr, or stop"},
		{"localhost", map[string]string{"api-addr": strings.Replace(addr, "127.0.0.1", "localhost", 1), "mqtt-addr": ":8883"}, "(change --api-addr, or stop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := explainListen(fmt.Errorf("listen for the API: %w", bindErr), tc.addrs)
			if got := err.Error(); !strings.HasPrefix(got, "listen for the API: listen tcp "+addr+": bind: address already in use") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want the server's error and %q", got, tc.want)
			}
		})
	}
	t.Run("not a listen error", func(t *testing.T) {
		in := fmt.Errorf("open the database: boom")
		if got := explainListen(in, map[string]string{"api-addr": addr}); got != in {
			t.Errorf("got %v, want the error unchanged", got)
		}
	})
}

// TestServeBindErrorNamesTheFlag runs serve on an address in use: the
// error names the flag to change.
func TestServeBindErrorNamesTheFlag(t *testing.T) {
	bin := buildBinary(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for _, flag := range []string{"--api-addr", "--mqtt-addr"} {
		t.Run(flag, func(t *testing.T) {
			args := []string{"serve", "--data-dir", filepath.Join(t.TempDir(), "data"), "--api-addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0", flag, addr}
			res := runCLI(t, bin, t.TempDir(), nil, args...)
			if res.code == 0 {
				t.Fatalf("serve with %s %s in use: exit 0", flag, addr)
			}
			if want := "address already in use (change " + flag + ", or stop the program listening on " + addr + ")"; !strings.Contains(res.stderr, want) {
				t.Errorf("stderr %q, want %q in it", res.stderr, want)
			}
		})
	}
}
