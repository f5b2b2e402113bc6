package mqttserver

import (
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
	"github.com/iotcore/iotcore/internal/mqttserver/topictree"
)

// Refusals of a PUBLISH that end the connection.
var (
	errAliasInvalid = &packet.Error{Code: packet.TopicAliasInvalid, Msg: "topic alias 0 or above the maximum"} // [MQTT-3.3.2-8] [MQTT-3.3.2-9]
	errAliasUnknown = &packet.Error{Code: packet.ProtocolError, Msg: "PUBLISH without a topic, and a topic alias not set before"}
	errSubIDInbound = &packet.Error{Code: packet.ProtocolError, Msg: "PUBLISH from a client with a subscription identifier"} // [MQTT-3.3.4-6]
	errQoS2         = &packet.Error{Code: packet.QoSNotSupported, Msg: "PUBLISH at QoS 2"}
)

// handlePublish takes a PUBLISH from the client: it resolves its topic
// alias, asks OnPublish, acknowledges a QoS 1 message and routes it.
func (c *conn) handlePublish(pk *packet.Publish) error {
	if pk.QoS == 2 {
		// QoS 2 is not supported [AWS 8.2]: an MQTT 5 client is told
		// 0x9B (CONNACK advertised Maximum QoS 1 [MQTT-3.2.2-11]); an
		// MQTT 3.1.1 message is ignored, without a PUBACK, as AWS does.
		if c.version == packet.Version5 {
			return errQoS2
		}
		return nil
	}
	if c.version == packet.Version5 {
		if pk.Props.Has(packet.PropSubscriptionID) {
			return errSubIDInbound
		}
		if err := c.resolveAlias(pk); err != nil {
			return err
		}
	}
	if err := topictree.ValidTopicName(pk.Topic); err != nil {
		return &packet.Error{Code: packet.TopicNameInvalid, Msg: err.Error()} // [MQTT-3.3.2-2]
	}
	c.s.stats.received.Add(1)
	c.publishing.Store(true)
	defer c.publishing.Store(false)
	verdict, code := c.s.hooks.OnPublish(&c.client, pk)
	switch verdict {
	case Discard:
		if pk.QoS == 1 && c.version == packet.Version5 {
			c.send(outItem{typ: packet.PUBACK, id: pk.PacketID, code: code}, true)
		}
		return nil
	case Close:
		c.disconnect(code, errPublishDeny)
		return errPublishDeny
	case Refuse:
		switch {
		case c.version < packet.Version5:
			return errPublishDeny
		case pk.QoS == 0:
			c.disconnect(code, errPublishDeny)
			return errPublishDeny
		}
		c.send(outItem{typ: packet.PUBACK, id: pk.PacketID, code: code}, true)
		return nil
	}
	if pk.QoS == 1 {
		c.send(outItem{typ: packet.PUBACK, id: pk.PacketID}, true)
	}
	if verdict == Route {
		c.s.publish(messageOf(pk, c.sess, c.s.opts.Now()), c)
	}
	c.s.hooks.OnPublished(&c.client, pk)
	return nil
}

// resolveAlias sets or applies an MQTT 5 PUBLISH's Topic Alias
// (§3.3.2.3.4).
func (c *conn) resolveAlias(pk *packet.Publish) error {
	if !pk.Props.Has(packet.PropTopicAlias) {
		if pk.Topic == "" {
			return errAliasUnknown
		}
		return nil
	}
	a := int(pk.Props.TopicAlias)
	if a == 0 || a > int(c.s.opts.TopicAliasMaximum) {
		return errAliasInvalid
	}
	if pk.Topic != "" {
		if len(c.aliases) < a {
			c.aliases = append(c.aliases, make([]string, a-len(c.aliases))...)
		}
		c.aliases[a-1] = pk.Topic
		return nil
	}
	if a > len(c.aliases) || c.aliases[a-1] == "" {
		return errAliasUnknown
	}
	pk.Topic = c.aliases[a-1]
	return nil
}

// publish keeps a retained message and routes m to the subscribers. from
// is the connection it came from, nil for the server's own.
func (s *Server) publish(m *Message, from *conn) {
	if m.Retain {
		// A retained PUBLISH with an empty payload deletes the retained
		// message [MQTT-3.3.1-6] [MQTT-3.3.1-7], and is routed as usual.
		if len(m.Payload) == 0 {
			s.retained.Delete(m.Topic)
		} else {
			s.retained.Set(m.Topic, m)
		}
	}
	s.route(m, from)
}

// matches are reused between routings, for fan-in without garbage.
var matches = sync.Pool{New: func() any { return new([]topictree.Subscriber[*session]) }}

// route delivers m to every session whose subscription matches its
// topic, once per session at the highest QoS of its matching
// subscriptions [MQTT-3.3.4-2].
func (s *Server) route(m *Message, from *conn) {
	bp := matches.Get().(*[]topictree.Subscriber[*session])
	subs := mergeOverlaps(s.subs.Match(m.Topic, (*bp)[:0]))
	for i := range subs {
		sub := &subs[i]
		if sub.Value == nil {
			continue // merged into an earlier one
		}
		opts := subOpts(sub.Opts)
		if opts.noLocal && from != nil && sub.Value == from.sess {
			continue // [MQTT-3.8.3-3]
		}
		// The RETAIN flag of a message routed live is cleared unless the
		// subscription asked to keep it [MQTT-3.3.1-12] [MQTT-3.3.1-13].
		s.deliver(sub.Value, m, min(m.QoS, opts.qos), m.Retain && opts.retainAsPublished, from)
	}
	clear(subs)
	*bp = subs[:0]
	matches.Put(bp)
}

// mergeOverlaps folds the subscriptions of one session whose filters
// overlap into the first of them (the highest QoS, Retain As Published if
// any asks, No Local only if all do), setting the others' Value to nil.
// A quadratic scan for the few matches of most topics; an index for the
// many of a fleet-wide topic, where it would cost a publish n² steps.
func mergeOverlaps(subs []topictree.Subscriber[*session]) []topictree.Subscriber[*session] {
	const scan = 16
	if len(subs) <= scan {
		for i := range subs {
			for j := i + 1; j < len(subs); j++ {
				if subs[i].Value != nil && subs[j].Value == subs[i].Value {
					subs[i].Opts = mergeOpts(subs[i].Opts, subs[j].Opts)
					subs[j].Value = nil
				}
			}
		}
		return subs
	}
	first := make(map[*session]int, len(subs))
	for j := range subs {
		if i, ok := first[subs[j].Value]; ok {
			subs[i].Opts = mergeOpts(subs[i].Opts, subs[j].Opts)
			subs[j].Value = nil
			continue
		}
		first[subs[j].Value] = j
	}
	return subs
}

// mergeOpts combines the options of two subscriptions of one session that
// match one topic [MQTT-3.3.4-2].
func mergeOpts(a, b byte) byte {
	x, y := subOpts(a), subOpts(b)
	m := packet.Subscription{QoS: max(x.qos, y.qos), RetainAsPublished: x.retainAsPublished || y.retainAsPublished,
		NoLocal: x.noLocal && y.noLocal}
	return optsOf(&m)
}

// deliver sends m to one session: MayDeliver decides for its live
// connection; a QoS 1 message for a session offline waits for it. It
// reports whether m was sent or queued.
func (s *Server) deliver(ss *session, m *Message, qos byte, retain bool, from *conn) bool {
	c := ss.live()
	if c == nil {
		if qos == 1 {
			return ss.deliverQoS1(m, retain, nil, false)
		}
		return false
	}
	if !s.hooks.MayDeliver(&c.client, m.Topic) {
		return false
	}
	// Flow control: the publisher (a device's goroutine, or the server's
	// caller) waits while the subscriber is behind, unless it is the
	// subscriber itself, whose goroutine is the one that would catch up.
	own := from == c
	wait := !own && s.opts.StallTimeout > 0
	if qos == 1 {
		if wait {
			held, stalled := ss.waitRoom(c, s.opts.StallTimeout)
			if held {
				s.stats.held.Add(1)
			}
			if stalled {
				s.stats.stalled.Add(1)
			}
		}
		return ss.deliverQoS1(m, retain, c, own)
	}
	it := outItem{typ: packet.PUBLISH, m: m, retain: retain}
	for {
		if c.send(it, own) {
			return true
		}
		if !wait {
			break
		}
		// Other publishers may fill the room up again before this one
		// queues: it waits again, until the subscriber stalls.
		held, room := c.waitRoom(s.opts.StallTimeout)
		if held {
			s.stats.held.Add(1)
		}
		if !room {
			break
		}
	}
	s.dropped(&c.client, m, DropQueueFull)
	return false
}

// dropped counts a message not delivered to c (nil: a session offline).
func (s *Server) dropped(c *Client, m *Message, why DropReason) {
	s.stats.dropped.Add(1)
	if c != nil {
		s.hooks.OnDropped(c, m.Topic, why)
	}
}

// willAfter publishes c's will when it is due: at once, or after its Will
// Delay Interval or when the session ends, whichever is first
// [MQTT-3.1.3-9]; a new connection to the session first cancels it.
func (s *Server) willAfter(c *conn, w *packet.Will) {
	ss := c.sess
	delay := uint32(0)
	if c.version == packet.Version5 {
		delay = w.Props.WillDelay
	}
	ss.mu.Lock()
	if delay > 0 && ss.expirySecs > 0 && !ss.ended && ss.conn == nil {
		delay = min(delay, ss.expirySecs)
		ss.willAt = time.AfterFunc(time.Duration(delay)*time.Second, func() {
			ss.mu.Lock()
			due := ss.conn == nil && ss.willAt != nil
			ss.willAt = nil
			ss.mu.Unlock()
			if due {
				s.publishWill(c, w)
			}
		})
		ss.mu.Unlock()
		return
	}
	ss.mu.Unlock()
	s.publishWill(c, w)
}

// publishWill publishes a will that OnWill allows.
func (s *Server) publishWill(c *conn, w *packet.Will) {
	pk := &packet.Publish{Topic: w.Topic, Payload: w.Payload, QoS: w.QoS, Retain: w.Retain, Props: w.Props}
	if !s.hooks.OnWill(&c.client, pk) {
		return
	}
	s.publish(messageOf(pk, nil, s.opts.Now()), nil)
}
