package mochi

import (
	"context"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/mqttserver"
)

// SessionState is a persistent session (clean session off, MQTT 5 clean
// start off) moving from one node of a cluster to another: its
// subscriptions, and the QoS 1 messages queued for it while the device was
// away or sent and not yet acknowledged.
type SessionState struct {
	ProtocolVersion byte                  `json:"v"`
	Subscriptions   []SessionSubscription `json:"s,omitempty"`
	Messages        []SessionMessage      `json:"m,omitempty"`
}

// SessionSubscription is one subscription of a moving session.
type SessionSubscription struct {
	Filter            string `json:"f"`
	QoS               byte   `json:"q"`
	NoLocal           bool   `json:"nl,omitempty"`
	RetainAsPublished bool   `json:"rap,omitempty"`
	RetainHandling    byte   `json:"rh,omitempty"`
}

// SessionMessage is one QoS 1 message of a moving session, with the MQTT 5
// properties a device may read.
type SessionMessage struct {
	PacketID        uint16                 `json:"id"`
	Topic           string                 `json:"t"`
	Payload         []byte                 `json:"p"`
	QoS             byte                   `json:"q"`
	Retain          bool                   `json:"r,omitempty"`
	Created         int64                  `json:"c"`
	Expiry          int64                  `json:"e,omitempty"`
	PayloadFormat   *byte                  `json:"pf,omitempty"`
	ContentType     string                 `json:"ct,omitempty"`
	ResponseTopic   string                 `json:"rt,omitempty"`
	CorrelationData []byte                 `json:"cd,omitempty"`
	User            []packets.UserProperty `json:"u,omitempty"`
}

// SessionSource finds a persistent session that another node of a cluster
// holds, and takes it from that node (package cluster, through the server).
type SessionSource interface {
	// FetchSession returns the session of clientID that another node held,
	// which no longer holds it; false if no node did.
	FetchSession(ctx context.Context, clientID string) (SessionState, bool)
}

// HandOverSession gives up this node's persistent session of clientID for
// a node where the device has just connected: a live connection of the id
// is taken over (DUPLICATE_CLIENTID) and waited for, then the session's
// subscriptions and queued messages are removed from this node and
// returned. False if this node holds no persistent session of clientID.
//
// A message being delivered to the session at this very moment may be
// neither in the state returned nor delivered by the new node: at most once
// in that instant, as with the rest of a hand-over (docs/cluster.md).
func (b *Broker) HandOverSession(ctx context.Context, clientID string) (SessionState, bool) {
	if b.engine != nil {
		st, ok := b.engine.HandOver(ctx, clientID)
		if !ok {
			return SessionState{}, false
		}
		b.stats.sessionsHandedOver.Add(1)
		return sessionStateOf(st, b.cfg.Now()), true
	}
	cl, ok := b.server.Clients.Get(clientID)
	if !ok || cl.Net.Inline {
		return SessionState{}, false
	}
	if c := connOf(cl); c != nil {
		if !cl.Closed() {
			c.takeOver()
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			return SessionState{}, false
		}
	}
	// A clean session ended with its connection (serve.go), and a session
	// that a newer connection here took over is that connection's.
	if now, ok := b.server.Clients.Get(clientID); !ok || now != cl || cl.IsTakenOver() {
		return SessionState{}, false
	}
	b.server.Clients.Delete(clientID)
	st := SessionState{ProtocolVersion: cl.Properties.ProtocolVersion}
	for _, sub := range cl.State.Subscriptions.GetAll() {
		st.Subscriptions = append(st.Subscriptions, SessionSubscription{
			Filter: sub.Filter, QoS: sub.Qos, NoLocal: sub.NoLocal,
			RetainAsPublished: sub.RetainAsPublished, RetainHandling: sub.RetainHandling,
		})
	}
	// No new message is queued once the subscriptions are gone.
	b.server.UnsubscribeClient(cl)
	for _, pk := range cl.State.Inflight.GetAll(false) {
		if !cl.State.Inflight.Delete(pk.PacketID) {
			continue
		}
		atomic.AddInt64(&b.server.Info.Inflight, -1)
		if pk.FixedHeader.Type != packets.Publish {
			continue
		}
		st.Messages = append(st.Messages, SessionMessage{
			PacketID: pk.PacketID, Topic: pk.TopicName, Payload: pk.Payload, QoS: pk.FixedHeader.Qos,
			Retain: pk.FixedHeader.Retain, Created: pk.Created, Expiry: pk.Expiry,
			PayloadFormat: payloadFormat(pk.Properties), ContentType: pk.Properties.ContentType,
			ResponseTopic: pk.Properties.ResponseTopic, CorrelationData: pk.Properties.CorrelationData,
			User: pk.Properties.User,
		})
	}
	b.stats.sessionsHandedOver.Add(1)
	return st, true
}

func payloadFormat(p packets.Properties) *byte {
	if !p.PayloadFormatFlag {
		return nil
	}
	f := p.PayloadFormat
	return &f
}

// DropSession ends this node's persistent session of clientID, without a
// live connection, because the device connected to another node at
// elsewhere with a clean session (one that resumed it took it with
// HandOverSession). A session this node admitted after elsewhere is newer
// and stays. It reports whether a session was dropped.
func (b *Broker) DropSession(clientID string, elsewhere time.Time) bool {
	if b.engine != nil {
		dropped := b.engine.DropOffline(clientID, func(last *mqttserver.Client) bool {
			c := connOfEngineClient(last)
			return c != nil && c.admittedBefore(elsewhere)
		})
		if dropped {
			b.stats.sessionsDropped.Add(1)
		}
		return dropped
	}
	cl, ok := b.server.Clients.Get(clientID)
	if !ok || cl.Net.Inline || !cl.Closed() {
		return false
	}
	if c := connOf(cl); c != nil && !c.admittedBefore(elsewhere) {
		return false
	}
	b.server.Clients.Delete(clientID)
	b.server.UnsubscribeClient(cl)
	cl.ClearInflights()
	b.stats.sessionsDropped.Add(1)
	return true
}

// fetchSession asks the cluster for a persistent session of the connecting
// client that another node holds, when this node holds none. What it finds
// is installed when mochi establishes the session (installSession).
func (h *hook) fetchSession(ctx context.Context, c *conn, cl *mqtt.Client, pk packets.Packet) {
	if h.b.cfg.Sessions == nil || pk.Connect.Clean {
		return
	}
	if _, ok := h.b.server.Clients.Get(cl.ID); ok {
		return // the session is here (or a clean one, which mochi ends)
	}
	if st, ok := h.b.cfg.Sessions.FetchSession(ctx, cl.ID); ok {
		c.moved.Store(&st)
	}
}

// OnSessionEstablish installs a session fetched from another node on the
// new connection's client, just before mochi adds it to its clients.
func (h *hook) OnSessionEstablish(cl *mqtt.Client, pk packets.Packet) {
	c := connOf(cl)
	if c == nil {
		return
	}
	st := c.moved.Load()
	if st == nil {
		return
	}
	for _, s := range st.Subscriptions {
		sub := packets.Subscription{Filter: s.Filter, Qos: s.QoS, NoLocal: s.NoLocal,
			RetainAsPublished: s.RetainAsPublished, RetainHandling: s.RetainHandling}
		if h.b.server.Topics.Subscribe(cl.ID, sub) {
			atomic.AddInt64(&h.b.server.Info.Subscriptions, 1)
		}
		cl.State.Subscriptions.Add(sub.Filter, sub)
	}
	for _, m := range st.Messages {
		out := packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: m.QoS, Retain: m.Retain},
			TopicName:   m.Topic, Payload: m.Payload, PacketID: m.PacketID, Created: m.Created, Expiry: m.Expiry,
			Properties: packets.Properties{ContentType: m.ContentType, ResponseTopic: m.ResponseTopic,
				CorrelationData: m.CorrelationData, User: m.User},
		}
		if m.PayloadFormat != nil {
			out.Properties.PayloadFormat, out.Properties.PayloadFormatFlag = *m.PayloadFormat, true
		}
		if cl.State.Inflight.Set(out) {
			atomic.AddInt64(&h.b.server.Info.Inflight, 1)
		}
	}
	h.b.stats.sessionsMovedIn.Add(1)
}

// OnSessionEstablished sends a session fetched from another node the
// messages it brought, as mochi does for a session resumed on this node:
// after the CONNACK (which says session present, connack), each through
// iot:Receive again (filterInflight).
func (h *hook) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	c := connOf(cl)
	if c == nil || c.moved.Swap(nil) == nil {
		return
	}
	if err := cl.ResendInflightMessages(true); err != nil {
		h.b.log.Debug("resend a moved session's messages", "client", cl.ID, "error", err)
	}
}
