package mochi

import (
	"slices"
	"strings"
	"unsafe"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/rules"
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
//
// OnSubscribe also applies AWS's limits [AWS 8.4] [AWS 9], refusing filters
// the same way and then, in MQTT 5, replacing 0x87 in the SUBACK with the
// limit's own code (OnPacketEncode); the connection stays up:
//
//   - a SUBSCRIBE of more than MaxFiltersPerSubscribe filters: every filter
//     is refused, 0x97 quota exceeded;
//   - a filter beyond MaxTopicLength or MaxTopicLevels: 0x8F topic filter
//     invalid;
//   - a filter that would make the connection hold more than
//     MaxSubscriptions: 0x97 quota exceeded. (AWS says it may also close
//     the connection; iotcore does not.)

// subackOverride is the reason codes that replace, in the SUBACK of packet
// id, mochi's 0x87 for filters refused by a limit rather than by policy.
type subackOverride struct {
	id    uint16
	codes []byte // by filter; 0 keeps mochi's
}

// OnSubscribe decides iot:Subscribe for each filter of a SUBSCRIBE, and
// applies the subscription limits.
func (h *hook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	c := connOf(cl)
	if c == nil {
		return pk
	}
	cfg := &h.b.cfg
	tooMany := cfg.MaxFiltersPerSubscribe > 0 && len(pk.Filters) > cfg.MaxFiltersPerSubscribe
	if tooMany {
		h.b.stats.subscribeLimited.Add(int64(len(pk.Filters)))
		h.b.deviceLog("mqtt subscribe refused: too many filters in one SUBSCRIBE", "client", cl.ID,
			"filters", len(pk.Filters), "limit", cfg.MaxFiltersPerSubscribe)
	}
	held := cl.State.Subscriptions.Len()
	added := map[string]bool{}
	decisions := make(map[*byte]bool, len(pk.Filters))
	override := make([]byte, len(pk.Filters))
	overridden := false
	refuse := func(i int, code packets.Code) {
		override[i], overridden = code.Code, true
	}
	filters := make(packets.Subscriptions, len(pk.Filters))
	for i, sub := range pk.Filters {
		sub.Filter = strings.Clone(sub.Filter)
		filters[i] = sub
		f := sub.Filter
		if !mqtt.IsValidFilter(f, false) {
			continue // mochi refuses it (0x8F) without asking
		}
		key := unsafe.StringData(f)
		if tooMany {
			decisions[key] = false
			refuse(i, packets.ErrQuotaExceeded)
			continue
		}
		if why := cfg.topicLimitExceeded(f); why != "" {
			decisions[key] = false
			refuse(i, packets.ErrTopicFilterInvalid)
			h.b.stats.filterRejected.Add(1)
			h.b.deviceLog("mqtt subscribe refused: topic filter "+why, "client", cl.ID, "filter", f)
			continue
		}
		if c.dead.Load() || !c.authorize(broker.Subscribe, f) {
			decisions[key] = false
			h.b.stats.subscribeDenied.Add(1)
			h.b.deviceLog("mqtt subscribe denied", "client", cl.ID, "filter", f)
			continue
		}
		if rules.BasicIngest(f) {
			// AWS: "Your devices and rules can't subscribe to Basic Ingest
			// reserved topics"; refused as a denial, whatever the policy.
			decisions[key] = false
			h.b.stats.subscribeDenied.Add(1)
			h.b.deviceLog("mqtt subscribe denied: Basic Ingest topics take no subscribers", "client", cl.ID, "filter", f)
			continue
		}
		if _, exists := cl.State.Subscriptions.Get(f); !exists && !added[f] {
			if cfg.MaxSubscriptions > 0 && held+len(added) >= cfg.MaxSubscriptions {
				decisions[key] = false
				refuse(i, packets.ErrQuotaExceeded)
				h.b.stats.subscribeLimited.Add(1)
				h.b.deviceLog("mqtt subscribe refused: too many subscriptions", "client", cl.ID,
					"filter", f, "limit", cfg.MaxSubscriptions)
				continue
			}
			added[f] = true
		}
		decisions[key] = true
	}
	c.subsMu.Lock()
	c.pending = decisions
	c.suback = nil
	if overridden {
		c.suback = &subackOverride{id: pk.PacketID, codes: override}
	}
	c.subsMu.Unlock()
	pk.Filters = filters
	return pk
}

// suback puts the limits' reason codes (see OnSubscribe) into an MQTT 5
// SUBACK. MQTT 3.1.1 has one failure code, 0x80, which mochi has set.
func (h *hook) suback(cl *mqtt.Client, pk *packets.Packet) {
	c := connOf(cl)
	if c == nil {
		return
	}
	c.subsMu.Lock()
	o := c.suback
	c.suback = nil
	c.subsMu.Unlock()
	if o == nil || o.id != pk.PacketID || cl.Properties.ProtocolVersion < 5 || len(o.codes) != len(pk.ReasonCodes) {
		return
	}
	codes := slices.Clone(pk.ReasonCodes)
	for i, code := range o.codes {
		if code != 0 && codes[i] == packets.ErrNotAuthorized.Code {
			codes[i] = code
		}
	}
	pk.ReasonCodes = codes
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
	if !h.b.replyFor(cl.ID, topic) {
		return false // another connection's answer (request.go)
	}
	if !c.mayReceive(topic) {
		h.b.stats.receiveDenied.Add(1)
		return false
	}
	// AWS counts deliveries against the connection's publish rate, and
	// discards those beyond it [AWS 9].
	if !c.takePublish("outbound", topic) {
		h.b.stats.deliveriesThrottled.Add(1)
		return false
	}
	// mochi queues the delivery next: wait for room (flow.go).
	if held, stalled := h.b.flow.awaitRoom(&c.flow, cl, !c.publishing.Load()); held {
		h.b.stats.publishersHeld.Add(1)
		if stalled {
			h.b.stats.stalled.Add(1)
		}
	}
	return true
}
