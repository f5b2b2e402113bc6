package server

import (
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
	s.gate.OnRegistryChange(events)
	s.onRulesChange(events)
}

// connectedElsewhere ends this node's connection of a client id that
// connected to another node.
func (s *Server) connectedElsewhere(clientID string) {
	s.gate.TakenOverElsewhere(clientID)
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
