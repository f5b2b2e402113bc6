package mochi

import (
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// hook is the only mochi hook the broker installs, and so the only one that
// authenticates and authorizes: mochi ORs OnConnectAuthenticate and
// OnACLCheck across hooks, so a second hook that allows (mochi's AllowHook,
// for one) would open everything.
//
// Where each decision is taken:
//
//   - iot:Connect, in OnConnect (connect.go), which runs before mochi sends
//     any CONNACK; OnConnectAuthenticate only confirms it.
//   - iot:Publish and iot:RetainPublish, in OnPublish (publish.go), where the
//     topic alias is resolved and the denial can be answered per protocol
//     version; OnACLCheck(write=true) allows.
//   - iot:Subscribe, per filter, in OnSubscribe (subscribe.go).
//   - iot:Receive, in OnACLCheck(write=false) on every delivery, and again on
//     session resumption for the messages queued meanwhile.
type hook struct {
	mqtt.HookBase
	b *Broker
}

var _ mqtt.Hook = (*hook)(nil)

// ID names the hook in mochi's logs.
func (h *hook) ID() string { return "iotcore" }

// Provides lists the events the hook handles.
func (h *hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect,
		mqtt.OnConnectAuthenticate,
		mqtt.OnDisconnect,
		mqtt.OnSessionEstablish,
		mqtt.OnSessionEstablished,
		mqtt.OnACLCheck,
		mqtt.OnPacketRead,
		mqtt.OnPacketEncode,
		mqtt.OnPublish,
		mqtt.OnPublished,
		mqtt.OnWill,
		mqtt.OnSubscribe,
		mqtt.OnSubscribed,
		mqtt.OnPublishDropped,
		mqtt.OnQosComplete,
		mqtt.OnQosDropped:
		return true
	}
	return false
}

// The hooks on a connection's packet paths keep their frames small: they
// take the packet by value, as mochi's interface has it, and work on it
// through a pointer, never copying its 800 bytes. mochi reads, answers and
// encodes on the connection's reading goroutine, whose stack after a
// CONNECT is 16 KiB: mochi's own frames for a PINGREQ and its PINGRESP come
// to about 13.5 KiB, and a hook frame of 2.4 KiB (three copies of the
// packet) pushed every idle device's first keep-alive past it, doubling
// the stack, 16 KiB more per connection (stack_test.go). Rare paths that
// build a packet of their own (writeDisconnect) are not inlined, so that
// their packets stay out of the hot frames.

// OnPacketRead checks what mochi would mishandle in an inbound packet.
func (h *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = h.checkConnect(cl, &pk)
	case packets.Publish:
		err = h.checkPublish(cl, &pk)
	case packets.Disconnect:
		if c := connOf(cl); c != nil {
			c.clientDisconnected.Store(true)
		}
	}
	return pk, err
}

// OnPacketEncode adjusts what mochi writes: CONNACKs (connect.go), SUBACKs
// (subscribe.go) and PUBACKs (publish.go). A PUBLISH leaving the outbound queue makes room
// (flow.go).
func (h *hook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	switch pk.FixedHeader.Type {
	case packets.Connack:
		h.connack(cl, &pk)
	case packets.Suback:
		h.suback(cl, &pk)
	case packets.Puback:
		puback(&pk)
	case packets.Publish:
		if c := connOf(cl); c != nil {
			c.flow.dequeued(h.b.flow, cl)
		}
	}
	return pk
}

// OnPublishDropped counts messages mochi dropped because a device's outbound
// queue (Config.OutboundQueue) was full. mochi drops them silently otherwise.
func (h *hook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	h.b.stats.dropped.Add(1)
}

// OnQosComplete sees a device acknowledge a QoS 1 delivery (flow.go).
func (h *hook) OnQosComplete(cl *mqtt.Client, pk packets.Packet) {
	if c := connOf(cl); c != nil {
		c.flow.acked(h.b.flow, cl.State.Inflight.Len())
	}
}

// OnQosDropped counts QoS 1 messages abandoned before their PUBACK: expired,
// or their session ended.
func (h *hook) OnQosDropped(cl *mqtt.Client, pk packets.Packet) {
	h.b.stats.qosDropped.Add(1)
}
