package mochi

import (
	"fmt"
	"sync"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

func TestKick(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(fmt.Sprintf("mqtt%d", v), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("dev")
			c := e.dialRaw("device", v)
			c.mustConnect("dev")
			s := e.gate.session("dev", 0)

			// From several goroutines at once, then again once it has gone.
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { s.kick("certificate revoked") })
			}
			wg.Wait()
			if v == 5 {
				if d := c.expect(packets.Disconnect); d.ReasonCode != packets.ErrNotAuthorized.Code {
					t.Errorf("DISCONNECT %#x, want 0x87", d.ReasonCode)
				}
			}
			c.expectClosed()
			waitFor(t, "the session closed", s.wasClosed)
			s.kick("again")
			if got := e.b.Stats().Kicked; got != 1 {
				t.Errorf("Stats().Kicked = %d, want 1", got)
			}
			if got := e.b.Stats().Connections; got != 0 {
				t.Errorf("Stats().Connections = %d, want 0", got)
			}
		})
	}
}

// A kick while the gate is still admitting the connection refuses it.
func TestKickDuringConnect(t *testing.T) {
	e := newEnv(t)
	release := e.gate.holdConnect("dev")
	c := e.dialRaw("device", 5)
	c.connect("dev", true)
	waitFor(t, "the gate asked", func() bool { return e.gate.kick("dev") != nil })
	e.gate.kick("dev")("revoked while connecting")
	release()
	c.expectClosed()
	waitFor(t, "the gate's session", func() bool { return e.gate.session("dev", 0) != nil })
	waitFor(t, "the session closed", e.gate.session("dev", 0).wasClosed)
	if got := e.b.Stats().Connections; got != 0 {
		t.Errorf("Stats().Connections = %d, want 0", got)
	}
}

// A kick after Serve has returned does nothing.
func TestKickAfterShutdown(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("dev")
	c := e.dialRaw("device", 4)
	c.mustConnect("dev")
	e.stop()
	e.gate.session("dev", 0).kick("late")
	if err := e.b.Publish("a", nil, false, 0); err == nil {
		t.Error("Publish after shutdown: no error")
	}
}
