package mqttserver

import (
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
	"github.com/iotcore/iotcore/internal/mqttserver/topictree"
)

// session is the state of one client id that outlives a connection: its
// subscriptions and its QoS 1 messages [MQTT-4.1.0-1]. A clean session
// (expiry 0) ends with its connection.
type session struct {
	id string
	s  *Server

	mu         sync.Mutex
	conn       *conn                   // nil while offline
	last       *conn                   // the connection it had last
	subs       map[string]subscription // by filter as subscribed ($share/... included); nil when none
	inflight   []*delivery             // sent, awaiting PUBACK, in the order sent
	queue      []*delivery             // waiting for the window or a connection
	nextID     uint16
	expirySecs uint32
	expireAt   *time.Timer // ends the session when it has been offline expirySecs
	willAt     *time.Timer // publishes a delayed will
	ended      bool
	// room is closed when the session's QoS 1 messages fall to half of
	// Options.MaxInflight, for publishers waiting (waitRoom); nil when
	// none waits.
	room chan struct{}
	// stalled is set when a publisher gave up waiting, cleared by the next
	// PUBACK: until then no one waits.
	stalled bool
}

// subscription is one of a session's subscriptions.
type subscription struct {
	filter topictree.Filter
	opts   packet.Subscription
}

// delivery is one QoS 1 message for one session.
type delivery struct {
	m      *Message
	id     uint16 // packet identifier, once sent
	retain bool
	// decided is the connection MayDeliver allowed it for; a delivery
	// sent on another is decided again.
	decided *conn
}

func (ss *session) live() *conn {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.conn
}

func (ss *session) expiry() uint32 {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.expirySecs
}

func (ss *session) setExpiry(secs uint32) {
	ss.mu.Lock()
	ss.expirySecs = secs
	ss.mu.Unlock()
}

// attach makes c the connection of the session of its client id, taking
// over the connection that holds it now [MQTT-3.1.4-3] and waiting until
// that one has finished, so that one connection at a time works on a
// session. A clean start discards the old session [MQTT-3.1.2-4]; it
// reports whether an old one is resumed (the CONNACK's Session Present
// [MQTT-3.2.2-2]).
func (s *Server) attach(c *conn, clean bool, expiry uint32) bool {
	id := c.client.id
	for {
		s.mu.Lock()
		ss := s.sessions[id]
		var old *conn
		if ss != nil {
			old = ss.live()
		}
		if old == nil {
			if ss != nil && clean {
				s.dropSessionLocked(ss)
				ss = nil
			}
			present := ss != nil
			imported := !present && !clean && c.imported != nil
			if ss == nil {
				ss = &session{id: id, s: s}
				s.sessions[id] = ss
			}
			ss.mu.Lock()
			if imported {
				s.installLocked(ss, c.imported)
				present = true
			}
			c.imported = nil
			ss.conn = c
			ss.expirySecs = expiry
			ss.stopTimersLocked()
			ss.mu.Unlock()
			c.sess = ss
			s.mu.Unlock()
			return present
		}
		s.mu.Unlock()
		old.disconnect(packet.SessionTakenOver, errTakenOver)
		<-old.done // bounded: its transport is closed, its writes have a deadline
	}
}

// dropSessionLocked ends ss: its subscriptions and messages go. s.mu is
// held.
func (s *Server) dropSessionLocked(ss *session) {
	ss.mu.Lock()
	ss.ended = true
	subs := ss.subs
	ss.subs = nil
	dropped := len(ss.queue) + len(ss.inflight)
	ss.queue, ss.inflight = nil, nil
	ss.stopExpiryLocked()
	ss.mu.Unlock()
	for _, sub := range subs {
		s.subs.Unsubscribe(sub.filter, ss)
	}
	s.stats.dropped.Add(uint64(dropped))
	s.stats.inflight.Add(-int64(dropped))
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
}

// detach ends c's hold on its session: a session with no expiry ends with
// it (MQTT 3.1.1: a clean session [MQTT-3.1.2-6]); another is kept for its
// expiry interval [MQTT-3.1.2-23].
func (s *Server) detach(c *conn, takenOver bool) {
	ss := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.mu.Lock()
	if ss.conn != c {
		ss.mu.Unlock()
		return
	}
	ss.conn = nil
	ss.last = c
	expiry := ss.expirySecs
	if expiry > 0 {
		ss.expireAt = time.AfterFunc(time.Duration(expiry)*time.Second, func() { s.expire(ss) })
		ss.mu.Unlock()
		return
	}
	ss.mu.Unlock()
	s.dropSessionLocked(ss)
}

// expire ends a session still offline when its expiry interval ends.
func (s *Server) expire(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.live() == nil && s.sessions[ss.id] == ss {
		s.dropSessionLocked(ss)
	}
}

func (ss *session) stopTimers() {
	ss.mu.Lock()
	ss.stopTimersLocked()
	ss.mu.Unlock()
}

// stopTimersLocked stops the timers of a session that a connection
// resumes: its expiry, and a delayed will [MQTT-3.1.3-9].
func (ss *session) stopTimersLocked() {
	ss.stopExpiryLocked()
	if ss.willAt != nil {
		ss.willAt.Stop()
		ss.willAt = nil
	}
}

// stopExpiryLocked stops the expiry timer alone: a session that ends
// still publishes its delayed will, now (see willAfter).
func (ss *session) stopExpiryLocked() {
	if ss.expireAt != nil {
		ss.expireAt.Stop()
		ss.expireAt = nil
	}
}

// resume sends a resumed session's QoS 1 messages to its new connection:
// first those sent before and not acknowledged, again, with DUP set and
// their packet identifiers [MQTT-4.4.0-1], then those queued. Each is
// decided again (MayDeliver) for the new connection.
func (ss *session) resume(c *conn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn != c {
		return
	}
	now := c.s.opts.Now()
	kept := ss.inflight[:0]
	for _, d := range ss.inflight {
		switch {
		case d.m.expired(now):
			c.s.dropped(&c.client, d.m, DropExpired)
			c.s.stats.inflight.Add(-1)
			continue
		case d.decided != c && !c.s.hooks.MayDeliver(&c.client, d.m.Topic):
			c.s.stats.inflight.Add(-1)
			continue
		}
		d.decided = c
		kept = append(kept, d)
		c.send(outItem{typ: packet.PUBLISH, d: d, qos: 1, dup: true}, true)
	}
	clear(ss.inflight[len(kept):])
	ss.inflight = kept
	ss.fillWindowLocked(c, true)
}

// fillWindowLocked sends queued messages while the window has room.
func (ss *session) fillWindowLocked(c *conn, own bool) {
	now := c.s.opts.Now()
	n := 0
	for n < len(ss.queue) && len(ss.inflight) < c.sendWindow {
		d := ss.queue[n]
		n++
		if d.m.expired(now) {
			c.s.dropped(&c.client, d.m, DropExpired)
			c.s.stats.inflight.Add(-1)
			continue
		}
		if d.decided != c && !c.s.hooks.MayDeliver(&c.client, d.m.Topic) {
			c.s.stats.inflight.Add(-1)
			continue
		}
		d.decided = c
		d.id = ss.packetIDLocked()
		ss.inflight = append(ss.inflight, d)
		c.send(outItem{typ: packet.PUBLISH, d: d, qos: 1}, own)
	}
	if n > 0 {
		rest := copy(ss.queue, ss.queue[n:])
		clear(ss.queue[rest:])
		ss.queue = ss.queue[:rest]
		if rest == 0 {
			ss.queue = nil
		}
	}
}

// packetIDLocked returns a packet identifier no message in flight has
// [MQTT-2.2.1-3].
func (ss *session) packetIDLocked() uint16 {
	for {
		ss.nextID++
		if ss.nextID == 0 {
			ss.nextID = 1
		}
		free := true
		for _, d := range ss.inflight {
			if d.id == ss.nextID {
				free = false
				break
			}
		}
		if free {
			return ss.nextID
		}
	}
}

// acked takes the PUBACK for packet id: the message is done
// [MQTT-4.3.2-5], and the window has room for the next. An unknown id is
// ignored (a late PUBACK for a message the session dropped).
func (ss *session) acked(id uint16) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for i, d := range ss.inflight {
		if d.id == id {
			copy(ss.inflight[i:], ss.inflight[i+1:])
			ss.inflight[len(ss.inflight)-1] = nil
			ss.inflight = ss.inflight[:len(ss.inflight)-1]
			if len(ss.inflight) == 0 {
				ss.inflight = nil
			}
			ss.s.stats.inflight.Add(-1)
			ss.stalled = false
			if ss.room != nil && len(ss.inflight)+len(ss.queue) <= ss.s.opts.MaxInflight/2 {
				close(ss.room)
				ss.room = nil
			}
			if c := ss.conn; c != nil && len(ss.queue) > 0 {
				ss.fillWindowLocked(c, true)
			}
			return
		}
	}
}

// deliverQoS1 adds a QoS 1 message for the session: sent now if it is
// connected and its window has room, queued otherwise, dropped when the
// session holds Options.MaxInflight already. c is the connection
// MayDeliver allowed it for, nil if the session was offline.
func (ss *session) deliverQoS1(m *Message, retain bool, c *conn, own bool) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return false
	}
	if len(ss.inflight)+len(ss.queue) >= ss.s.opts.MaxInflight {
		var cl *Client
		if ss.conn != nil {
			cl = &ss.conn.client
		}
		ss.s.dropped(cl, m, DropInflightFull)
		return false
	}
	d := &delivery{m: m, retain: retain, decided: c}
	ss.s.stats.inflight.Add(1)
	if ss.conn == nil || ss.conn != c || len(ss.queue) > 0 || len(ss.inflight) >= c.sendWindow {
		ss.queue = append(ss.queue, d)
		return true
	}
	d.id = ss.packetIDLocked()
	ss.inflight = append(ss.inflight, d)
	c.send(outItem{typ: packet.PUBLISH, d: d, qos: 1}, own)
	return true
}

// waitRoom holds a publisher while the session, live on c, holds three
// quarters of Options.MaxInflight QoS 1 messages, until it holds half, c
// ends, or d passes (then no one waits again until the next PUBACK). It
// does not wait while c's own goroutine is handling a PUBLISH: that
// goroutine is the one that would read the PUBACKs.
func (ss *session) waitRoom(c *conn, d time.Duration) (held, stalled bool) {
	quota := ss.s.opts.MaxInflight
	ss.mu.Lock()
	if ss.stalled || ss.conn != c || c.publishing.Load() || len(ss.inflight)+len(ss.queue) < quota*3/4 {
		ss.mu.Unlock()
		return false, false
	}
	if ss.room == nil {
		ss.room = make(chan struct{})
	}
	room := ss.room
	ss.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-room:
	case <-c.done:
	case <-t.C:
		ss.mu.Lock()
		ss.stalled = true
		ss.mu.Unlock()
		return true, true
	}
	return true, false
}
