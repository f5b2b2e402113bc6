package mochi

import "strings"

// Cluster hands the messages this node accepts to the other nodes of a
// cluster (package cluster); they deliver them with DeliverFromCluster.
type Cluster interface {
	Forward(topic string, payload []byte, qos byte, retain bool)
}

// toCluster hands an accepted message to the cluster. Basic Ingest
// messages ($aws/rules/...) go to no subscriber, and their rules run here:
// they stay on this node.
func (b *Broker) toCluster(topic string, payload []byte, qos byte, retain bool) {
	if b.cfg.Cluster == nil || strings.HasPrefix(topic, basicIngestPrefix) {
		return
	}
	b.cfg.Cluster.Forward(topic, payload, qos, retain)
}

// DeliverFromCluster delivers a message another node accepted to this
// node's subscribers, each through its iot:Receive check, and keeps it if
// retained. Rules do not run on it: they ran on the node that accepted it.
func (b *Broker) DeliverFromCluster(topic string, payload []byte, qos byte, retain bool) error {
	return b.publish(topic, payload, retain && !strings.HasPrefix(topic, "$"), qos)
}
