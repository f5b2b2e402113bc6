package broker

import (
	"cmp"
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
	connection() Connection
	disconnect(reason string)
}

// admit adds an admitted session to those Connections lists.
func (g *Gatekeeper) admit(c liveConnection) {
	g.mu.Lock()
	if g.admitted == nil {
		g.admitted = map[liveConnection]struct{}{}
	}
	g.admitted[c] = struct{}{}
	g.mu.Unlock()
}

// dismiss removes a closed session from those Connections lists.
func (g *Gatekeeper) dismiss(c liveConnection) {
	g.mu.Lock()
	delete(g.admitted, c)
	g.mu.Unlock()
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
// appear twice for a moment: the old connection and the new.
func (g *Gatekeeper) Connections(p ConnectionPage) (conns []Connection, more bool) {
	g.mu.Lock()
	all := make([]Connection, 0, len(g.admitted))
	for c := range g.admitted {
		conn := c.connection()
		if strings.HasPrefix(conn.ClientID, p.Prefix) && (p.After == "" || conn.ClientID > p.After) {
			all = append(all, conn)
		}
	}
	g.mu.Unlock()
	slices.SortFunc(all, func(a, b Connection) int {
		return cmp.Or(strings.Compare(a.ClientID, b.ClientID), a.Since.Compare(b.Since))
	})
	if p.Limit > 0 && len(all) > p.Limit {
		return all[:p.Limit], true
	}
	return all, false
}

// ConnectionCount is the number of admitted connections.
func (g *Gatekeeper) ConnectionCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.admitted)
}

// Disconnect disconnects every connection of clientID, telling the log
// reason, and returns how many there were.
func (g *Gatekeeper) Disconnect(clientID, reason string) int {
	g.mu.Lock()
	var found []liveConnection
	for c := range g.admitted {
		if c.connection().ClientID == clientID {
			found = append(found, c)
		}
	}
	g.mu.Unlock()
	for _, c := range found {
		c.disconnect(reason)
	}
	return len(found)
}

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
