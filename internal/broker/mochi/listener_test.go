package mochi

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

func TestALPN(t *testing.T) {
	tests := []struct {
		name  string
		offer []string
		want  string
	}{
		{"none", nil, ""},
		{"aws", []string{"x-amzn-mqtt-ca"}, "x-amzn-mqtt-ca"},
		{"mqtt", []string{"mqtt"}, "mqtt"},
		{"aws among others", []string{"h2", "x-amzn-mqtt-ca"}, "x-amzn-mqtt-ca"},
		{"unknown", []string{"h2", "http/1.1"}, ""}, // Go would refuse the handshake; AWS's 8883 ignores ALPN
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dialRaw("device", 4, tt.offer...)
			if got := c.c.(*tls.Conn).ConnectionState().NegotiatedProtocol; got != tt.want {
				t.Errorf("negotiated %q, want %q", got, tt.want)
			}
			c.mustConnect("thing")
			c.roundTrip()
		})
	}
}

func TestTLSVersions(t *testing.T) {
	e := newEnv(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := e.clientTLS("device")
		cfg.MinVersion, cfg.MaxVersion = v, v
		c, err := tls.Dial("tcp", e.b.Addr().String(), cfg)
		if err != nil {
			t.Errorf("%s: %v", tls.VersionName(v), err)
			continue
		}
		_ = c.Close()
	}
	cfg := e.clientTLS("device")
	cfg.MaxVersion = tls.VersionTLS11
	if c, err := tls.Dial("tcp", e.b.Addr().String(), cfg); err == nil {
		_ = c.Close()
		t.Error("TLS 1.1 accepted")
	}
}

// A client certificate is required, but any will do for TLS: the gate
// decides trust (here, one signed by an unknown CA is offered to the gate).
func TestClientCertificate(t *testing.T) {
	e := newEnv(t)
	c, err := tls.Dial("tcp", e.b.Addr().String(), e.clientTLS(""))
	if err == nil {
		// TLS 1.3: the server's verdict on the client comes with the first read.
		_, err = c.Read(make([]byte, 1))
		_ = c.Close()
	}
	if err == nil {
		t.Error("connection without a client certificate accepted")
	}

	other := newEnv(t)
	cfg := e.clientTLS("")
	cfg.Certificates = []tls.Certificate{other.device("stranger")}
	tc, err := tls.Dial("tcp", e.b.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("certificate from another CA: %v", err)
	}
	defer tc.Close()
	raw := &rawClient{t: t, c: tc, r: bufio.NewReader(tc), v: 4}
	raw.mustConnect("stranger")
	if req, _ := e.gate.lastRequest(); req.Chain[0].Subject.CommonName != "stranger" {
		t.Errorf("gate saw %q", req.Chain[0].Subject.CommonName)
	}
}

// A client that opens TCP and says nothing is cut after HandshakeTimeout.
func TestHandshakeTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.HandshakeTimeout = 200 * time.Millisecond })
	c, err := net.Dial("tcp", e.b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expectEOF(t, c)
	waitFor(t, "the failure counted", func() bool { return e.b.Stats().HandshakeFailures == 1 })
}

// A client that completes TLS and sends no CONNECT is cut after ConnectTimeout.
func TestConnectTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ConnectTimeout = 200 * time.Millisecond })
	c := e.dialRaw("device", 4)
	expectEOF(t, c.c)
	if _, asked := e.gate.lastRequest(); asked {
		t.Error("the gate was asked")
	}
}

func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	_, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %v", waitTimeout)
	}
}

func TestPacketTooLarge(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxPacketSize = 1024 })
	e.gate.allowAll("pub")
	w := e.watcher("w", "big", "marker")
	p := e.dialRaw("device", 4)
	p.mustConnect("pub")
	p.publish("big", strings.Repeat("x", 1024), 0, false, 0)
	p.expectClosed()
	e.server(t, "marker", "m")
	w.expectOnly("marker", "m")

	// A CONNECT counts too.
	c := e.dialRaw("device", 5)
	c.connect("big", true, func(pk *packets.Packet) {
		pk.Connect.Username = []byte(strings.Repeat("u", 2000))
		pk.Connect.UsernameFlag = true
	})
	c.expectClosed()
}

// The default limit is AWS's 128 KiB, never mochi's "unlimited".
func TestDefaultMaxPacketSize(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("pub")
	p := e.dialRaw("device", 4)
	p.mustConnect("pub")
	// A header announcing 200 MiB is refused before anything is allocated.
	p.write([]byte{0x30, 0x80, 0x80, 0x80, 0x64})
	p.expectClosed()
}
