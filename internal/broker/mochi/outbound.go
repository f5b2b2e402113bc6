package mochi

import (
	"fmt"
	"reflect"
	"unsafe"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// outboundOffset is where mochi keeps a client's outbound queue in its
// ClientState: a channel it does not export, whose length flow control
// needs (flow.go). Counting deliveries in and out through hooks instead
// drifts: mochi drops some deliveries (its inflight quota) with no hook to
// say so. mochi is pinned (v2.7.9, unmaintained upstream); if a version
// moves or retypes the field, the broker refuses to start rather than
// guess, and every test fails; TestMochiVersion (mochiversion_test.go)
// fails as soon as the version changes.
var outboundOffset = func() uintptr {
	f, ok := reflect.TypeFor[mqtt.ClientState]().FieldByName("outbound")
	if !ok || f.Type != reflect.TypeFor[chan *packets.Packet]() {
		panic(fmt.Sprintf("mochi: ClientState.outbound is not a chan *packets.Packet (found %v): update outbound.go for this version of mochi", ok))
	}
	return f.Offset
}()

// outboundLen is how many packets wait in cl's outbound queue.
func outboundLen(cl *mqtt.Client) int {
	return len(*(*chan *packets.Packet)(unsafe.Add(unsafe.Pointer(&cl.State), outboundOffset)))
}
