package cluster

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Every node says it is there on iotcore.node every heartbeatInterval; a
// node not heard from for peerTimeout has left (or lost NATS).
const (
	heartbeatInterval = 2 * time.Second
	peerTimeout       = 3 * heartbeatInterval
)

// What a node says on iotcore.node (header Iotcore-Node).
const (
	headerNode = "Iotcore-Node"
	nodeHello  = "hello" // joined: the others answer nodeHere at once
	nodeHere   = "here"  // heartbeat
	nodeBye    = "bye"   // leaving
)

// peers are the other nodes this node has heard from lately.
type peers struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (p *peers) saw(id string, now time.Time) (known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[string]time.Time{}
	}
	_, known = p.seen[id]
	p.seen[id] = now
	return known
}

func (p *peers) left(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.seen, id)
}

// count is how many other nodes were heard from within peerTimeout.
func (p *peers) count(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for id, at := range p.seen {
		if now.Sub(at) > peerTimeout {
			delete(p.seen, id)
			continue
		}
		n++
	}
	return n
}

// announce says something about this node on iotcore.node.
func (n *Node) announce(what string) {
	m := nats.NewMsg(subjectNode)
	m.Header.Set(headerOrigin, n.id)
	m.Header.Set(headerNode, what)
	n.send(m)
}

// heartbeat says the node is there until Close.
func (n *Node) heartbeat() {
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
			if n.nc.IsConnected() {
				n.announce(nodeHere)
			}
		}
	}
}

// onNode keeps track of the other nodes. A node that joins is answered at
// once, so that it knows its peers before their next heartbeat.
func (n *Node) onNode(m *nats.Msg) {
	if n.mine(m) {
		return
	}
	id := m.Header.Get(headerOrigin)
	switch m.Header.Get(headerNode) {
	case nodeBye:
		n.peers.left(id)
	case nodeHello:
		n.peers.saw(id, time.Now())
		n.announce(nodeHere)
	default:
		n.peers.saw(id, time.Now())
	}
}

// Peers is how many other nodes this node has heard from lately.
func (n *Node) Peers() int { return n.peers.count(time.Now()) }
