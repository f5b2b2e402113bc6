package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/server"
)

// TestKeeperNamesTheCause checks the cause a lost connection is reported
// with: a client silent past its keep-alive was closed for that, and the
// report says so.
func TestKeeperNamesTheCause(t *testing.T) {
	const keepAlive = time.Second
	e := newEnvWith(t, func(c *server.Config) { c.MQTTMinKeepAlive = keepAlive })
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
