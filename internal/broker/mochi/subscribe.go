package mochi

import (
	"strings"
	"unsafe"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
)

// AWS decides iot:Subscribe (on the topic filter, at SUBSCRIBE) and
// iot:Receive (on the topic name, at every delivery) separately; mochi asks
// one callback, OnACLCheck(write=false), for both, with a string that is a
// filter in one case and a topic in the other, and "a/b" can be either.
//
// So OnSubscribe decides iot:Subscribe for each filter and replaces the
// packet's filter strings with fresh copies, remembering each decision by
// the copy's address. processSubscribe then passes exactly those strings to
// OnACLCheck, on the same goroutine, before OnSubscribed: a string at one
// of those addresses is the subscribe check, any other is a delivery. The
// address is only compared, never dereferenced, and no delivery topic can
// share the memory of a copy made here.
//
// A denied filter is refused by mochi itself: SUBACK 0x87 in MQTT 5, 0x80 in
// MQTT 3.1.1 (mochi maps every failure to 0x80 there) [AWS 7.4].

// OnSubscribe decides iot:Subscribe for each filter of a SUBSCRIBE.
func (h *hook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	c := connOf(cl)
	if c == nil {
		return pk
	}
	decisions := make(map[*byte]bool, len(pk.Filters))
	filters := make(packets.Subscriptions, len(pk.Filters))
	for i, sub := range pk.Filters {
		sub.Filter = strings.Clone(sub.Filter)
		if sub.Filter != "" { // an empty filter is invalid: mochi refuses it without asking
			allowed := !c.dead.Load() && c.authorize(broker.Subscribe, sub.Filter)
			if !allowed {
				h.b.stats.subscribeDenied.Add(1)
				h.b.deviceLog("mqtt subscribe denied", "client", cl.ID, "filter", sub.Filter)
			}
			decisions[unsafe.StringData(sub.Filter)] = allowed
		}
		filters[i] = sub
	}
	c.subsMu.Lock()
	c.pending = decisions
	c.subsMu.Unlock()
	pk.Filters = filters
	return pk
}

// OnSubscribed forgets the decisions of the SUBSCRIBE just processed.
func (h *hook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, reasonCodes []byte) {
	if c := connOf(cl); c != nil {
		c.subsMu.Lock()
		c.pending = nil
		c.subsMu.Unlock()
	}
}

// subscribeDecision returns OnSubscribe's decision if s is one of the filter
// strings it made.
func (c *conn) subscribeDecision(s string) (allowed, ok bool) {
	if s == "" {
		return false, false
	}
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	allowed, ok = c.pending[unsafe.StringData(s)]
	return allowed, ok
}

// OnACLCheck answers mochi's authorization callback. write=true is a
// publish, decided in OnPublish. write=false is either the subscribe check
// of a filter OnSubscribe decided, or a delivery: iot:Receive, on every
// message about to be sent to the device, retained messages on subscribe
// and server-originated ones included.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write {
		return true
	}
	c := connOf(cl)
	if c == nil {
		return false
	}
	if allowed, ok := c.subscribeDecision(topic); ok {
		return allowed
	}
	// mochi's $SYS topics are not AWS's; mochi keeps them for its own.
	if len(topic) >= len(mqtt.SysPrefix) && strings.EqualFold(topic[:len(mqtt.SysPrefix)], mqtt.SysPrefix) {
		return false
	}
	if !c.mayReceive(topic) {
		h.b.stats.receiveDenied.Add(1)
		return false
	}
	return true
}
