package broker

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"strings"
	"time"
)

// Connection is one admitted connection, as an operator sees it (the
// console's connected devices).
type Connection struct {
	ClientID string
	// Principal is the certificate id, or for an IAM identity (a SigV4
	// WebSocket) the access key id.
	Principal  string
	IAM        bool
	Things     []string // the things attached to the certificate, sorted
	RemoteAddr string
	Since      time.Time
}

// liveConnection is an admitted session the operator may list and disconnect.
type liveConnection interface {
	liveClientID() string
	liveSlot() uint32 // its shard of the gate's live connections
	connection() Connection
	disconnect(reason string)
}

// admit adds an admitted session to those Connections lists.
func (g *Gatekeeper) admit(c liveConnection, cleanSession bool) {
	g.live.admit(c)
	if g.Admitted != nil {
		g.Admitted(c.liveClientID(), c.connection().Since, cleanSession)
	}
}

// dismiss removes a closed session from those Connections lists.
func (g *Gatekeeper) dismiss(c liveConnection) {
	g.live.dismiss(c)
}

// ConnectionPage asks for at most Limit connections whose client id starts
// with Prefix, after the client id After, in client id order.
type ConnectionPage struct {
	Prefix string
	After  string
	Limit  int
}

// Connections lists the admitted connections of one page, in client id
// order, and whether more follow. During a takeover the same client id may
// appear twice for a moment: the old connection and the new. It keeps only
// the page's connections while it scans (a bounded heap), so a page costs
// O(n log Limit) for n connections, not a sort of them all.
func (g *Gatekeeper) Connections(p ConnectionPage) (conns []Connection, more bool) {
	limit := p.Limit
	if limit <= 0 {
		limit = math.MaxInt - 1
	}
	// The limit+1 smallest client ids after p.After: a max-heap by client id.
	var h pageHeap
	for c := range g.live.connections() {
		id := c.liveClientID()
		if !strings.HasPrefix(id, p.Prefix) || p.After != "" && id <= p.After {
			continue
		}
		if h.Len() <= limit {
			heap.Push(&h, pageEntry{id, c})
		} else if id < h[0].id {
			h[0] = pageEntry{id, c}
			heap.Fix(&h, 0)
		}
	}
	entries := []pageEntry(h)
	slices.SortFunc(entries, func(a, b pageEntry) int { return strings.Compare(a.id, b.id) })
	if len(entries) > limit {
		entries, more = entries[:limit], true
	}
	conns = make([]Connection, len(entries))
	for i, e := range entries {
		conns[i] = e.c.connection()
	}
	slices.SortStableFunc(conns, func(a, b Connection) int {
		return cmp.Or(strings.Compare(a.ClientID, b.ClientID), a.Since.Compare(b.Since))
	})
	return conns, more
}

// pageEntry is a connection kept for a page; pageHeap a max-heap of them by
// client id.
type pageEntry struct {
	id string
	c  liveConnection
}

type pageHeap []pageEntry

func (h pageHeap) Len() int           { return len(h) }
func (h pageHeap) Less(i, j int) bool { return h[i].id > h[j].id }
func (h pageHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pageHeap) Push(x any)        { *h = append(*h, x.(pageEntry)) }
func (h *pageHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ConnectionCount is the number of admitted connections.
func (g *Gatekeeper) ConnectionCount() int {
	return int(g.live.admitted.Load())
}

// TakenOverElsewhere ends this node's connections of clientID admitted
// before at, when the client id connected to another node at at: as AWS
// does when a client id connects twice, the older connection goes
// (DUPLICATE_CLIENTID). A connection admitted here after at is the newer one
// and stays (the news of the other node's connection came late). It returns
// how many were ended.
func (g *Gatekeeper) TakenOverElsewhere(clientID string, at time.Time) int {
	found := slices.DeleteFunc(g.live.connectionsOf(clientID), func(c liveConnection) bool {
		return !c.connection().Since.Before(at)
	})
	for _, c := range found {
		c.disconnect(KickTakenOver)
	}
	return len(found)
}

// Disconnect disconnects every connection of clientID, telling the log
// reason, and returns how many there were.
func (g *Gatekeeper) Disconnect(clientID, reason string) int {
	found := g.live.connectionsOf(clientID)
	for _, c := range found {
		c.disconnect(reason)
	}
	return len(found)
}

func (s *session) liveClientID() string    { return s.clientID }
func (s *iamSession) liveClientID() string { return s.p.clientID }
func (s *session) liveSlot() uint32        { return s.slot }
func (s *iamSession) liveSlot() uint32     { return s.slot }

func (s *session) connection() Connection {
	s.mu.Lock()
	things := make([]string, 0, len(s.things))
	for t := range s.things {
		things = append(things, t)
	}
	s.mu.Unlock()
	slices.Sort(things)
	return Connection{ClientID: s.clientID, Principal: s.certID, Things: things, RemoteAddr: s.remote, Since: s.connected}
}

func (s *iamSession) connection() Connection {
	return Connection{ClientID: s.p.clientID, Principal: s.p.principal, IAM: true, RemoteAddr: s.remote, Since: s.connected}
}

func (s *iamSession) disconnect(why string) {
	if why == KickTakenOver {
		s.kick(why)
		return
	}
	if s.kicked.Swap(true) {
		return
	}
	if s.gate.Logger != nil {
		s.gate.Logger.Info("disconnecting an IAM session", "client_id", s.p.clientID, "access_key_id", s.p.principal, "reason", why)
	}
	if s.kick != nil {
		s.kick(why)
	}
}
