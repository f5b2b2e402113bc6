package mqttserver

import (
	"github.com/iotcore/iotcore/internal/mqttserver/packet"
	"github.com/iotcore/iotcore/internal/mqttserver/topictree"
)

// optsOf packs a subscription's options into the byte the topic tree
// keeps: the QoS in bits 0–1, No Local in 2, Retain As Published in 3 (the
// SUBSCRIBE options' own layout).
func optsOf(s *packet.Subscription) byte {
	b := s.QoS
	if s.NoLocal {
		b |= 0x4
	}
	if s.RetainAsPublished {
		b |= 0x8
	}
	return b
}

type options struct {
	qos                        byte
	noLocal, retainAsPublished bool
}

func subOpts(b byte) options {
	return options{qos: b & 0x3, noLocal: b&0x4 != 0, retainAsPublished: b&0x8 != 0}
}

var errNoLocalShared = &packet.Error{Code: packet.ProtocolError, Msg: "No Local on a shared subscription"} // [MQTT-3.8.3-4]

// handleSubscribe decides each filter of a SUBSCRIBE (OnSubscribe),
// subscribes those granted, answers with a SUBACK of one code per filter
// [MQTT-3.8.4-6] and then sends the retained messages the subscriptions
// ask for [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11].
func (c *conn) handleSubscribe(pk *packet.Subscribe) error {
	if pk.Props.Has(packet.PropSubscriptionID) {
		// Not supported, as the CONNACK said [MQTT-3.2.2-?] (AWS IoT
		// Core likewise).
		return &packet.Error{Code: packet.SubIDsNotSupported, Msg: "SUBSCRIBE with a subscription identifier"}
	}
	codes := make([]byte, len(pk.Subscriptions))
	filters := make([]topictree.Filter, len(pk.Subscriptions))
	for i := range pk.Subscriptions {
		sub := &pk.Subscriptions[i]
		f, err := topictree.ParseFilter(sub.Filter)
		if err != nil {
			codes[i] = packet.TopicFilterInvalid // MQTT 3.1.1: 0x80 failure, below
			continue
		}
		if f.Share != "" && sub.NoLocal {
			return errNoLocalShared
		}
		filters[i] = f
		codes[i] = min(sub.QoS, 1) // the server's maximum QoS [MQTT-3.2.2-9]
	}
	c.s.hooks.OnSubscribe(&c.client, pk, codes)
	type granted struct {
		f     topictree.Filter
		sub   *packet.Subscription
		isNew bool
	}
	var done []granted
	for i := range pk.Subscriptions {
		if codes[i] >= packet.UnspecifiedError {
			continue
		}
		sub := &pk.Subscriptions[i]
		sub.QoS = codes[i]
		isNew := !c.s.subscribe(c.sess, filters[i], sub)
		done = append(done, granted{filters[i], sub, isNew})
	}
	if c.version < packet.Version5 {
		for i, code := range codes {
			if code >= packet.UnspecifiedError {
				codes[i] = 0x80 // MQTT 3.1.1's one failure code
			}
		}
	}
	c.send(outItem{typ: packet.SUBACK, id: pk.PacketID, codes: codes}, true)
	for _, g := range done {
		if g.f.Share != "" || g.sub.RetainHandling == 2 || g.sub.RetainHandling == 1 && !g.isNew {
			continue // shared subscriptions get no retained messages [MQTT-3.8.4-?]
		}
		c.sendRetained(g.f, g.sub.QoS)
	}
	return nil
}

// subscribe adds or replaces a session's subscription [MQTT-3.8.4-3]; it
// reports whether one with the filter existed.
func (s *Server) subscribe(ss *session, f topictree.Filter, sub *packet.Subscription) bool {
	key := f.String()
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return false
	}
	_, existed := ss.subs[key]
	if ss.subs == nil {
		ss.subs = make(map[string]subscription, 1)
	}
	ss.subs[key] = subscription{filter: f, opts: packet.Subscription{Filter: key, QoS: sub.QoS, NoLocal: sub.NoLocal, RetainAsPublished: sub.RetainAsPublished}}
	s.subs.Subscribe(f, ss, optsOf(sub))
	ss.mu.Unlock()
	return existed
}

// sendRetained sends the retained messages matching f, RETAIN set
// [MQTT-3.3.1-8], each decided by MayDeliver.
func (c *conn) sendRetained(f topictree.Filter, qos byte) {
	msgs := c.s.retained.Match(f, nil)
	for _, m := range msgs {
		if !c.s.hooks.MayDeliver(&c.client, m.Topic) {
			continue
		}
		q := min(m.QoS, qos)
		if q == 1 {
			c.sess.deliverQoS1(m, true, c, true)
			continue
		}
		if !c.send(outItem{typ: packet.PUBLISH, m: m, retain: true}, true) {
			c.s.dropped(&c.client, m, DropQueueFull)
		}
	}
}

// handleUnsubscribe removes the session's subscriptions to the filters
// [MQTT-3.10.4-1] and answers with an UNSUBACK [MQTT-3.10.4-4].
func (c *conn) handleUnsubscribe(pk *packet.Unsubscribe) {
	codes := make([]byte, len(pk.Filters))
	ss := c.sess
	for i, filter := range pk.Filters {
		f, err := topictree.ParseFilter(filter)
		if err != nil {
			codes[i] = packet.TopicFilterInvalid
			continue
		}
		key := f.String()
		ss.mu.Lock()
		_, ok := ss.subs[key]
		if ok {
			delete(ss.subs, key)
			if len(ss.subs) == 0 {
				ss.subs = nil
			}
			c.s.subs.Unsubscribe(f, ss)
		} else {
			codes[i] = packet.NoSubscriptionExisted
		}
		ss.mu.Unlock()
	}
	c.send(outItem{typ: packet.UNSUBACK, id: pk.PacketID, codes: codes}, true)
}

// Subscriptions is how many subscriptions the client's session holds.
func (cl *Client) Subscriptions() int {
	ss := cl.c.sess
	if ss == nil {
		return 0
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.subs)
}

// Subscribed reports whether the client's session holds a subscription to
// filter, exactly ($share/<name>/ included).
func (cl *Client) Subscribed(filter string) bool {
	ss := cl.c.sess
	if ss == nil {
		return false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, ok := ss.subs[filter]
	return ok
}
