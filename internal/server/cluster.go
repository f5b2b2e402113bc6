package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"time"

	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/cluster"
	"github.com/iotcore/iotcore/internal/registry"
)

// openCluster joins the cluster Config.ClusterURL names, if any: messages
// accepted on other nodes are delivered here, their registry changes reach
// this node's cache, live connections and rules, and a client id that
// connects elsewhere is disconnected here.
func (s *Server) openCluster() (err error) {
	if s.Config.ClusterURL == "" {
		return nil
	}
	s.cluster, err = cluster.Join(cluster.Config{URL: s.Config.ClusterURL, Logger: s.Config.Logger})
	return err
}

// listenToCluster takes in what the other nodes send, once the broker and
// the gate it reaches are open.
func (s *Server) listenToCluster() error {
	if s.cluster == nil {
		return nil
	}
	if err := s.cluster.Listen(cluster.Handlers{
		Message:         s.fromCluster,
		RegistryChanged: s.changedElsewhere,
		ClientConnected: s.connectedElsewhere,
		HandOverSession: s.handOverSession,
		Retained:        s.retained,
		KeepRetained:    s.keepRetained,
	}); err != nil {
		return err
	}
	// Every other node's changes arrive (changedElsewhere): the registry
	// may cache again.
	s.Registry.CacheSharedStore = true
	return nil
}

// fromCluster delivers a message another node accepted.
func (s *Server) fromCluster(m cluster.Message) {
	if err := s.Broker.DeliverFromCluster(m.Topic, m.Payload, m.QoS, m.Retain); err != nil {
		s.Config.Logger.Debug("cluster: message not delivered", "topic", m.Topic, "error", err)
	}
}

// changedElsewhere takes a registry change committed on another node.
func (s *Server) changedElsewhere(events []registry.Event) {
	s.Registry.ChangedElsewhere(events)
	s.domains.reloadOn(events)
	s.index.OnRegistryChange(events)
	s.gate.OnRegistryChange(principalEvents(events))
	s.onRulesChange(events)
}

// connectedElsewhere ends this node's older connections of a client id
// that connected to another node at at and, if that connection has a clean
// session, its persistent session here (one that resumes a session asks
// for it: handOverSession).
func (s *Server) connectedElsewhere(clientID string, at time.Time, cleanSession bool) {
	s.gate.TakenOverElsewhere(clientID, at)
	if cleanSession {
		s.Broker.DropSession(clientID, at)
	}
}

// principalEvents are the events that may change what a device may do,
// for the gate: a shadow update need not wake it.
func principalEvents(events []registry.Event) []registry.Event {
	if !slices.ContainsFunc(events, func(e registry.Event) bool { return !e.AffectsPrincipals() }) {
		return events
	}
	return slices.DeleteFunc(slices.Clone(events), func(e registry.Event) bool { return !e.AffectsPrincipals() })
}

// handOverSession gives up this node's persistent session of a client id
// that connected to another node, encoded for the cluster. A session too
// large for one NATS message keeps its newest queued messages.
func (s *Server) handOverSession(ctx context.Context, clientID string) ([]byte, bool) {
	st, ok := s.Broker.HandOverSession(ctx, clientID)
	if !ok {
		return nil, false
	}
	limit := s.cluster.MaxPayload() - 4096 // the headers
	for dropped := 0; ; dropped++ {
		data, err := json.Marshal(st)
		if err != nil {
			s.Config.Logger.Error("cluster: encode a session; it is lost", "client", clientID, "error", err)
			return nil, false
		}
		if len(data) <= limit || len(st.Messages) == 0 {
			if dropped > 0 {
				s.Config.Logger.Warn("cluster: a session moving to another node kept only its newest queued messages",
					"client", clientID, "dropped", dropped, "kept", len(st.Messages))
			}
			return data, true
		}
		st.Messages = st.Messages[1:]
	}
}

// clusterSessions finds a connecting device's persistent session on the
// other nodes (mochi.Config.Sessions).
type clusterSessions struct {
	node *cluster.Node
	log  *slog.Logger
}

func (c clusterSessions) FetchSession(ctx context.Context, clientID string) (mochi.SessionState, bool) {
	data, ok := c.node.FetchSession(ctx, clientID)
	if !ok {
		return mochi.SessionState{}, false
	}
	var st mochi.SessionState
	if err := json.Unmarshal(data, &st); err != nil {
		c.log.Error("cluster: a session from another node that does not decode; starting a new one", "client", clientID, "error", err)
		return mochi.SessionState{}, false
	}
	return st, true
}

// retained lists this node's retained messages for a node that joins.
func (s *Server) retained() []cluster.Message {
	var out []cluster.Message
	for _, r := range s.Broker.RetainedMessages() {
		out = append(out, cluster.Message{Topic: r.Topic, Payload: r.Payload, QoS: r.QoS, Retain: true})
	}
	return out
}

// keepRetained keeps another node's retained message this node lacks.
func (s *Server) keepRetained(m cluster.Message) {
	s.Broker.KeepRetained(mochi.RetainedMessage{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS})
}
