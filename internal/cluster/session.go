package cluster

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
)

// sessionWait bounds how long a node waits for the others' answers when it
// asks for a persistent session; the device's CONNECT waits as long.
const sessionWait = 2 * time.Second

// headerSession says whether an answer to iotcore.session carries the
// session ("1") or says the node holds none ("0").
const headerSession = "Iotcore-Session"

// FetchSession asks the other nodes for the persistent session of
// clientID, which has just connected here without a clean session. The
// node holding it takes over its live connection, if any, hands the
// session over (it no longer holds it) and answers with it; every other
// node answers that it has none, so that the wait ends as soon as every
// node known to be there (Peers) has answered, or after sessionWait.
func (n *Node) FetchSession(ctx context.Context, clientID string) ([]byte, bool) {
	expect := n.Peers()
	if expect == 0 || !n.nc.IsConnected() {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, sessionWait)
	defer cancel()
	inbox := nats.NewInbox()
	sub, err := n.nc.SubscribeSync(inbox)
	if err != nil {
		n.log.Warn("cluster: ask for a session", "client", clientID, "error", err)
		return nil, false
	}
	defer func() { _ = sub.Unsubscribe() }()
	m := nats.NewMsg(subjectSession)
	m.Header.Set(headerOrigin, n.id)
	m.Reply = inbox
	m.Data = []byte(clientID)
	if err := n.nc.PublishMsg(m); err != nil {
		n.log.Warn("cluster: ask for a session", "client", clientID, "error", err)
		return nil, false
	}
	for answered := 0; answered < expect; answered++ {
		reply, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			n.log.Warn("cluster: not every node answered whether it holds a session; starting a new one",
				"client", clientID, "nodes", expect, "answered", answered, "error", err)
			return nil, false
		}
		if reply.Header.Get(headerSession) == "1" {
			return reply.Data, true
		}
	}
	return nil, false
}

// onSessionRequest answers a node asking for a session: with the session,
// handed over, or with none. It answers on a goroutine of its own: handing
// over waits for a live connection to end.
func (n *Node) onSessionRequest(m *nats.Msg) {
	if n.mine(m) || m.Reply == "" {
		return
	}
	clientID := string(m.Data)
	go func() {
		var data []byte
		found := false
		if n.h.HandOverSession != nil {
			ctx, cancel := context.WithTimeout(context.Background(), sessionWait)
			data, found = n.h.HandOverSession(ctx, clientID)
			cancel()
		}
		reply := nats.NewMsg(m.Reply)
		reply.Header.Set(headerSession, "0")
		if found {
			reply.Header.Set(headerSession, "1")
			reply.Data = data
		}
		if err := n.nc.PublishMsg(reply); err != nil {
			n.log.Error("cluster: answer a session request; the session is lost", "client", clientID, "error", err)
		}
	}()
}
