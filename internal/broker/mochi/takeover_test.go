package mochi

import (
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/iottest"
)

// blockUnsubscribed holds mochi's first clean-session teardown of client id
// "same" between its IsTakenOver check and its Clients.Delete.
type blockUnsubscribed struct {
	mqtt.HookBase
	once    sync.Once
	entered chan struct{} // closed when the teardown is held
	release chan struct{}
}

func (h *blockUnsubscribed) ID() string { return "block-unsubscribed" }
func (h *blockUnsubscribed) Provides(b byte) bool {
	return b == mqtt.OnUnsubscribed
}
func (h *blockUnsubscribed) OnUnsubscribed(cl *mqtt.Client, pk packets.Packet) {
	if cl.ID != "same" || len(pk.Filters) == 0 {
		return
	}
	h.once.Do(func() {
		close(h.entered)
		select {
		case <-h.release:
		case <-time.After(iottest.Timeout): // the test failed before releasing it
		}
	})
}

// A device that reconnects with its client id while mochi is still ending
// its previous clean session keeps its new session: mochi's teardown must
// not delete the new connection from its client registry.
func TestReconnectDuringCleanSessionTeardown(t *testing.T) {
	mochiOnly(t, "clean-session teardown racing a takeover")
	e := newEnv(t)
	e.gate.allowAll("*")
	h := &blockUnsubscribed{entered: make(chan struct{}), release: make(chan struct{})}
	if err := e.b.server.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	old := e.dialRaw("dev", 4)
	old.mustConnect("same")
	old.subscribe(1, "old/topic")
	old.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	select {
	case <-h.entered: // the old session's teardown is held
	case <-time.After(waitTimeout):
		t.Fatal("the old session's teardown did not start")
	}
	connected := make(chan *rawClient, 1)
	go func() {
		n := e.dialRaw("dev", 4)
		n.mustConnect("same")
		connected <- n
	}()
	// Once the gate has admitted the new connection, the takeover runs. Without
	// the fix mochi registers the new client at once, while the old one's
	// teardown is still held; with it, the new connection waits for the old one
	// to be gone. Release the teardown as soon as either is seen (or after a
	// bound: the waiting connection shows nothing).
	waitFor(t, "the gate to admit the second connection", func() bool { return e.gate.sessionCount("same") == 2 })
	oldClient, _ := e.b.server.Clients.Get("same")
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		if cur, ok := e.b.server.Clients.Get("same"); ok && cur != oldClient {
			break // registered next to the old session's teardown: the race
		}
		time.Sleep(time.Millisecond)
	}
	close(h.release)
	n := iottest.Receive(t, connected, "the new connection")
	n.subscribe(2, "new/topic")
	n.publish("new/topic", "hello", 0, false, 0)
	if pk, err := n.recv(5 * time.Second); err != nil || pk.FixedHeader.Type != packets.Publish {
		t.Fatalf("the reconnected device got %v, %v; want its message", pk.FixedHeader.Type, err)
	}
}
