package bench

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/server"
)

// TestKeeperNamesTheCause checks the cause a lost connection is reported
// with: a client silent past its keep-alive was closed for that, and the
// report says so.
func TestKeeperNamesTheCause(t *testing.T) {
	const keepAlive = time.Second
	e := newEnvWith(t, func(c *server.Config) { c.MQTT.MinKeepAlive = keepAlive })
	dev, err := e.fixture.Device(context.Background(), e.ep, "device")
	if err != nil {
		t.Fatal(err)
	}
	ep := e.ep
	ep.KeepAlive = keepAlive
	c, err := Dial(context.Background(), ep, ep.TLSConfig(dev))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := clientID("", dev, "i", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(id); err != nil {
		t.Fatal(err)
	}
	// Silent, as the generator's connections were while the others were
	// made: wait for the server to close the connection (Peek reads
	// nothing away).
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := c.r.Peek(1); !isClosed(err) {
		t.Fatalf("a silent connection: %v, want it closed by the server", err)
	}
	k := startKeeper(c)
	<-k.done
	var closed *closedError
	if !errors.As(k.err, &closed) {
		t.Fatalf("keeper: %v, want a *closedError", k.err)
	}
	if got, want := reason(k.check()), "closed by the server: keep-alive"; got != want {
		t.Errorf("reason %q, want %q (%v)", got, want, k.err)
	}
}

// TestKeeperWithoutKeepAlive: a connection that asked for no keep-alive
// (0, from a --keepalive under a second) is not pinged in a busy loop.
func TestKeeperWithoutKeepAlive(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := &Conn{nc: client, r: bufio.NewReader(client), timeout: testTimeout, keepalive: 0, sent: time.Now()}
	k := startKeeper(c)
	_ = server.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var b [1]byte
	n, err := server.Read(b[:])
	k.signalStop()
	<-k.done
	if n != 0 || !isTimeout(err) {
		t.Errorf("the server read %d bytes (%v) within 100ms of a connection without keep-alive, want none", n, err)
	}
	if k.pending != 0 || k.err != nil {
		t.Errorf("keeper: %d pings pending, error %v; want none", k.pending, k.err)
	}
	_ = client.Close()
}
