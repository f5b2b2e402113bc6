package mqttserver

import (
	"context"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
	"github.com/iotcore/iotcore/internal/mqttserver/topictree"
)

// SessionState is a persistent session leaving this server for another
// (a cluster's node): its subscriptions, and its QoS 1 messages, those
// sent and not acknowledged first, in order.
type SessionState struct {
	Version       byte
	Subscriptions []packet.Subscription
	Messages      []*Message
}

// HandOver takes the persistent session of id from this server: a live
// connection is taken over (ErrTakenOver, MQTT 5: DISCONNECT 0x8E) and
// waited for, then the session's subscriptions and messages are removed
// and returned. False if the server holds no persistent session of id, or
// ctx ends first.
func (s *Server) HandOver(ctx context.Context, id string) (SessionState, bool) {
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil {
		return SessionState{}, false
	}
	if c := ss.live(); c != nil {
		c.disconnect(packet.SessionTakenOver, ErrTakenOver)
		select {
		case <-c.done:
		case <-ctx.Done():
			return SessionState{}, false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[id] != ss || ss.live() != nil {
		return SessionState{}, false // ended with its connection, or taken by a newer one
	}
	ss.mu.Lock()
	st := SessionState{}
	if ss.last != nil {
		st.Version = ss.last.version
	}
	for _, sub := range ss.subs {
		st.Subscriptions = append(st.Subscriptions, sub.opts)
	}
	for _, d := range ss.inflight {
		st.Messages = append(st.Messages, d.m)
	}
	for _, d := range ss.queue {
		st.Messages = append(st.Messages, d.m)
	}
	n := len(ss.inflight) + len(ss.queue)
	ss.inflight, ss.queue = nil, nil
	ss.mu.Unlock()
	s.stats.inflight.Add(-int64(n))
	s.dropSessionLocked(ss)
	return st, true
}

// DropOffline ends the session of id if it has no connection and older,
// given the client it had last, says so. It reports whether it did.
func (s *Server) DropOffline(id string, older func(last *Client) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[id]
	if ss == nil {
		return false
	}
	ss.mu.Lock()
	offline, last := ss.conn == nil, ss.last
	ss.mu.Unlock()
	if !offline || last == nil || !older(&last.client) {
		return false
	}
	s.dropSessionLocked(ss)
	return true
}

// HasSession reports whether the server holds a session of id, live or
// not.
func (s *Server) HasSession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id] != nil
}

// Import gives the client a session that came from another server, to be
// installed when it is admitted if this server holds none of its id: the
// CONNACK then says Session Present, and the messages are sent (each
// decided by MayDeliver). Only OnConnect may call it.
func (cl *Client) Import(st SessionState) { cl.c.imported = &st }

// install adds an imported session's subscriptions and messages to ss, a
// session just made. ss.mu is held.
func (s *Server) installLocked(ss *session, st *SessionState) {
	for i := range st.Subscriptions {
		sub := &st.Subscriptions[i]
		f, err := topictree.ParseFilter(sub.Filter)
		if err != nil {
			continue
		}
		if ss.subs == nil {
			ss.subs = make(map[string]subscription, len(st.Subscriptions))
		}
		ss.subs[f.String()] = subscription{filter: f, opts: *sub}
		s.subs.Subscribe(f, ss, optsOf(sub))
	}
	for _, m := range st.Messages {
		ss.queue = append(ss.queue, &delivery{m: m, retain: m.Retain})
	}
	s.stats.inflight.Add(int64(len(st.Messages)))
}

// ErrTakenOver is what a connection ends with when a newer one takes its
// session, here or (HandOver) on another server.
var ErrTakenOver = errTakenOver
