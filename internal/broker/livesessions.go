package broker

import (
	"cmp"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// liveShards is how many parts the live sessions are kept in, each behind a
// lock of its own: a connect or a disconnect takes one of them, so that
// connects on many cores do not queue on one lock.
const liveShards = 64

// liveSet holds the gate's live sessions and admitted connections. It finds
// the sessions a registry change concerns, and the connections of a client
// id, through indexes: the work of a change (one device provisioned, one
// policy edited) is proportional to the sessions it concerns, not to the
// fleet connected. (A scan of every session, as before, cost 84 ms per
// provisioned device with 100,000 devices connected.)
//
// A session or connection lives in the shard of its slot, given at its
// creation; a lookup visits every shard.
type liveSet struct {
	slots    atomic.Uint32
	admitted atomic.Int64 // admitted connections
	shards   [liveShards]liveShard
}

type liveShard struct {
	mu sync.Mutex
	// byClient holds the admitted connections by client id: one, or two
	// for a moment during a takeover.
	byClient map[string][]liveConnection
	// bySubject holds the sessions by what a registry change names that
	// may change what they may do (session.subjects).
	bySubject map[subject]sessionSet
	_         [40]byte // a cache line of its own: shards are locked from many cores
}

// sessionSet is the sessions of one subject in one shard. Most subjects (a
// certificate, a client id) have one session: a map is made only for a
// second.
type sessionSet struct {
	one  *session              // the only session, when more is nil
	more map[*session]struct{} // two or more
}

func (set *sessionSet) add(s *session) {
	switch {
	case set.more != nil:
		set.more[s] = struct{}{}
	case set.one == nil || set.one == s:
		set.one = s
	default:
		set.more = map[*session]struct{}{set.one: {}, s: {}}
		set.one = nil
	}
}

// remove removes s and reports whether the set is now empty.
func (set *sessionSet) remove(s *session) (empty bool) {
	if set.more == nil {
		if set.one == s {
			set.one = nil
		}
		return set.one == nil
	}
	delete(set.more, s)
	return len(set.more) == 0
}

func (set *sessionSet) appendTo(out []*session) []*session {
	if set.more == nil {
		if set.one != nil {
			out = append(out, set.one)
		}
		return out
	}
	for s := range set.more {
		out = append(out, s)
	}
	return out
}

// slot returns the shard for a new session or connection, in turn.
func (l *liveSet) slot() uint32 { return l.slots.Add(1) % liveShards }

// index moves s in its shard's index from the subjects old to the subjects
// now (both sorted, as session.subjects returns them). The caller holds
// s.mu, so that the index and the session's sets change together.
func (l *liveSet) index(s *session, old, now []subject) {
	if slices.Equal(old, now) {
		return
	}
	sh := &l.shards[s.slot]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, k := range old {
		if set, ok := sh.bySubject[k]; ok {
			if set.remove(s) {
				delete(sh.bySubject, k)
			} else {
				sh.bySubject[k] = set
			}
		}
	}
	if len(now) > 0 && sh.bySubject == nil {
		sh.bySubject = map[subject]sessionSet{}
	}
	for _, k := range now {
		set := sh.bySubject[k]
		set.add(s)
		sh.bySubject[k] = set
	}
}

// sessionsOf returns the live sessions that one of subjects concerns, each
// once.
func (l *liveSet) sessionsOf(subjects []subject) []*session {
	if len(subjects) == 0 {
		return nil
	}
	var out []*session
	for i := range l.shards {
		sh := &l.shards[i]
		start := len(out)
		sh.mu.Lock()
		for _, k := range subjects {
			if set, ok := sh.bySubject[k]; ok {
				out = set.appendTo(out)
			}
		}
		sh.mu.Unlock()
		// A session may be concerned by several subjects; it is found only
		// in its own shard.
		if len(subjects) > 1 && len(out)-start > 1 {
			seen := make(map[*session]struct{}, len(out)-start)
			kept := out[:start]
			for _, s := range out[start:] {
				if _, dup := seen[s]; !dup {
					seen[s] = struct{}{}
					kept = append(kept, s)
				}
			}
			out = kept
		}
	}
	return out
}

// admit adds an admitted connection.
func (l *liveSet) admit(c liveConnection) {
	sh := &l.shards[c.liveSlot()]
	id := c.liveClientID()
	sh.mu.Lock()
	if sh.byClient == nil {
		sh.byClient = map[string][]liveConnection{}
	}
	sh.byClient[id] = append(sh.byClient[id], c)
	sh.mu.Unlock()
	l.admitted.Add(1)
}

// dismiss removes an admitted connection; a connection not admitted, or
// dismissed already, is left alone.
func (l *liveSet) dismiss(c liveConnection) {
	sh := &l.shards[c.liveSlot()]
	id := c.liveClientID()
	sh.mu.Lock()
	list := sh.byClient[id]
	i := slices.Index(list, c)
	if i < 0 {
		sh.mu.Unlock()
		return
	}
	if len(list) == 1 {
		delete(sh.byClient, id)
	} else {
		sh.byClient[id] = slices.Delete(slices.Clone(list), i, i+1)
	}
	sh.mu.Unlock()
	l.admitted.Add(-1)
}

// connectionsOf returns the admitted connections of clientID.
func (l *liveSet) connectionsOf(clientID string) []liveConnection {
	var out []liveConnection
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		out = append(out, sh.byClient[clientID]...)
		sh.mu.Unlock()
	}
	return out
}

// connections yields every admitted connection, shard by shard. The loop's
// body runs under a shard's lock: it must be quick and must not call the
// set.
func (l *liveSet) connections() iter.Seq[liveConnection] {
	return func(yield func(liveConnection) bool) {
		for i := range l.shards {
			sh := &l.shards[i]
			sh.mu.Lock()
			for _, list := range sh.byClient {
				for _, c := range list {
					if !yield(c) {
						sh.mu.Unlock()
						return
					}
				}
			}
			sh.mu.Unlock()
		}
	}
}

// subject is what a registry change names that may change what a session
// may do: its certificate, a thing attached to it (or named as its client
// id, its connection thing), one of its effective policies, or one of its
// things' groups (ancestors included).
type subject struct {
	kind subjectKind
	name string
}

type subjectKind uint8

const (
	subjectCertificate subjectKind = iota + 1 // a certificate id
	subjectThing                              // a thing name
	subjectPolicy                             // a policy name
	subjectGroup                              // a thing group name
)

// eventSubject is what a registry change names, and false for a change no
// session's authorization depends on:
//
//   - CertificateChanged: the certificate (its status, or its deletion);
//   - PolicyChanged: the policy (a new default version, or its deletion);
//   - AttachmentsChanged: a thing group's or a certificate's policies (a
//     target of another kind concerns no device session);
//   - ThingChanged: the thing (its attributes, principals or groups).
func eventSubject(e registry.Event, acct iot.Account) (subject, bool) {
	switch e.Kind {
	case registry.CertificateChanged:
		return subject{subjectCertificate, e.ID}, true
	case registry.PolicyChanged:
		return subject{subjectPolicy, e.ID}, true
	case registry.AttachmentsChanged:
		if group, ok := strings.CutPrefix(e.ID, acct.ThingGroupARN("")); ok {
			return subject{subjectGroup, group}, true
		}
		if id, ok := strings.CutPrefix(e.ID, acct.CertificateARN("")); ok {
			return subject{subjectCertificate, id}, true
		}
	case registry.ThingChanged:
		return subject{subjectThing, e.ID}, true
	}
	return subject{}, false
}

// compareSubjects orders subjects, so that two lists of them compare.
func compareSubjects(a, b subject) int {
	return cmp.Or(cmp.Compare(a.kind, b.kind), strings.Compare(a.name, b.name))
}
