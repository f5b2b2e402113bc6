// Package cluster joins iotcore nodes over NATS, so that any node serves
// any device: a message published on one node reaches the subscribers of
// every node, a registry change made through one node reaches the live
// connections of all, and a client id connected on one node is taken over
// when the device connects to another, as on AWS.
//
// NATS carries three kinds of message, each sent by the node where it
// happened and handled by the others (a node ignores its own):
//
//   - iotcore.msg: an MQTT message a node accepted (from a device, the
//     server's events, the rules engine), with its topic, QoS and retain
//     flag in NATS headers and the payload as the body. The other nodes
//     deliver it to their subscribers (and keep it if retained), through
//     the same iot:Receive checks as a local message, and do not run rules
//     on it: rules run once, on the node that accepted the message.
//   - iotcore.registry: the events of a registry change (a certificate, a
//     policy, a CA...), for the other nodes' caches, live connections and
//     rules engines.
//   - iotcore.client: a client id a node admitted, when, and whether with
//     a clean session; the other nodes disconnect their older connection
//     of that id (DUPLICATE_CLIENTID) and, for a clean session, end their
//     persistent session of it.
//   - iotcore.session: a node where a device connects without a clean
//     session asks the others for its persistent session; the node that
//     holds it hands it over (session.go).
//   - iotcore.node: each node says it is there, every few seconds, so that
//     a node asking for a session knows how many answers to wait for
//     (peers.go).
//   - iotcore.retained: a node that joins (or comes back after losing
//     NATS) asks the others for their retained messages, and keeps those it
//     lacks.
//
// Core NATS delivers at most once: while every node and NATS are up
// nothing is lost, but a message in flight when a node or NATS fails is.
// When NATS is down each node serves its own devices, reports not ready,
// and rejoins by itself.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/iotcore/iotcore/internal/registry"
)

// Subjects.
const (
	subjectMessage  = "iotcore.msg"
	subjectRegistry = "iotcore.registry"
	subjectClient   = "iotcore.client"
	subjectRetained = "iotcore.retained"
	subjectSession  = "iotcore.session"
	subjectNode     = "iotcore.node"
)

// retainedBatch bounds the bytes of one reply with retained messages
// (NATS's default maximum payload is 1 MiB).
const retainedBatch = 512 << 10

// retainedWait is how long a joining node takes retained messages in.
const retainedWait = 5 * time.Second

// Header names of a forwarded MQTT message.
const (
	headerOrigin = "Iotcore-Origin"
	headerTopic  = "Iotcore-Topic"
	headerQoS    = "Iotcore-Qos"
	headerRetain = "Iotcore-Retain"
	headerAt     = "Iotcore-At"    // Unix nanoseconds
	headerClean  = "Iotcore-Clean" // "1": a clean session
)

// Message is an MQTT message accepted on another node.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
}

// Handlers receive what other nodes send.
type Handlers struct {
	// Message delivers a message accepted on another node to this node's
	// subscribers.
	Message func(Message)
	// RegistryChanged takes the events of a change committed on another node.
	RegistryChanged func([]registry.Event)
	// ClientConnected disconnects this node's connections of a client id
	// that connected to another node at at, if they are older, and with a
	// clean session ends its persistent session here (without one, the
	// other node asks for the session: HandOverSession).
	ClientConnected func(clientID string, at time.Time, cleanSession bool)
	// HandOverSession gives up this node's persistent session of a client
	// id that connected to another node, encoded; false if it holds none.
	HandOverSession func(ctx context.Context, clientID string) ([]byte, bool)
	// Retained lists this node's retained messages, for a node that joins.
	Retained func() []Message
	// KeepRetained keeps a retained message of another node, unless this
	// node has one on the topic.
	KeepRetained func(Message)
}

// Config says how to join.
type Config struct {
	// URL is the NATS server, or several separated by commas
	// (nats://host:4222,nats://other:4222).
	URL    string
	Logger *slog.Logger
}

// Node is this node's membership of the cluster.
type Node struct {
	id     string
	nc     *nats.Conn
	h      Handlers
	log    *slog.Logger
	subs   []*nats.Subscription
	failed atomic.Int64 // messages that could not be sent
	// listening is set once Listen has subscribed.
	listening atomic.Bool
	peers     peers
	stop      chan struct{} // closed by Close
}

// Join connects to NATS; the node sends from now on, and receives once
// Listen is called. If NATS cannot be reached now, it keeps trying in the
// background: the node serves its own devices meanwhile, and Ready says it
// is not in the cluster.
func Join(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Node{id: uuid.NewString(), log: cfg.Logger, stop: make(chan struct{})}
	nc, err := nats.Connect(cfg.URL,
		nats.Name("iotcore "+n.id),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.ReconnectBufSize(8<<20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return // Close
			}
			n.log.Error("cluster: lost NATS; serving this node's devices alone until it is back", "error", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			n.log.Info("cluster: NATS is back", "server", c.ConnectedUrlRedacted())
			if n.listening.Load() {
				n.announce(nodeHello)
				go n.syncRetained()
			}
		}),
		nats.ConnectHandler(func(c *nats.Conn) {
			n.log.Info("cluster: joined", "server", c.ConnectedUrlRedacted(), "node", n.id)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subject := ""
			if s != nil {
				subject = s.Subject
			}
			n.log.Error("cluster: NATS error", "subject", subject, "error", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to NATS: %w", err)
	}
	n.nc = nc
	return n, nil
}

// Listen takes in what the other nodes send, handing it to h, and asks them
// for their retained messages. The node's own parts that h reaches must be
// ready: nothing arrives before Listen.
func (n *Node) Listen(h Handlers) error {
	n.h = h
	for subject, handle := range map[string]nats.MsgHandler{
		subjectMessage: n.onMessage, subjectRegistry: n.onRegistry, subjectClient: n.onClient, subjectRetained: n.onRetainedRequest,
		subjectSession: n.onSessionRequest, subjectNode: n.onNode,
	} {
		sub, err := n.nc.Subscribe(subject, handle)
		if err != nil {
			return fmt.Errorf("cluster: subscribe %s: %w", subject, err)
		}
		// A burst of messages waits rather than being dropped as a slow consumer.
		_ = sub.SetPendingLimits(1<<20, 512<<20)
		n.subs = append(n.subs, sub)
	}
	n.listening.Store(true)
	n.announce(nodeHello)
	go n.heartbeat()
	if n.nc.IsConnected() {
		go n.syncRetained()
	}
	return nil
}

// wireRetained is a retained message in a reply to iotcore.retained.
type wireRetained struct {
	Topic   string `json:"t"`
	Payload []byte `json:"p"`
	QoS     byte   `json:"q"`
}

// syncRetained asks the other nodes for their retained messages and keeps
// those this node lacks, for retainedWait.
func (n *Node) syncRetained() {
	if n.h.KeepRetained == nil {
		return
	}
	inbox := nats.NewInbox()
	sub, err := n.nc.Subscribe(inbox, func(m *nats.Msg) {
		var batch []wireRetained
		if err := json.Unmarshal(m.Data, &batch); err != nil {
			n.log.Error("cluster: retained messages that do not decode", "error", err)
			return
		}
		for _, r := range batch {
			n.h.KeepRetained(Message{Topic: r.Topic, Payload: r.Payload, QoS: r.QoS, Retain: true})
		}
	})
	if err != nil {
		n.log.Error("cluster: ask for retained messages", "error", err)
		return
	}
	time.AfterFunc(retainedWait, func() { _ = sub.Unsubscribe() })
	m := nats.NewMsg(subjectRetained)
	m.Header.Set(headerOrigin, n.id)
	m.Reply = inbox
	n.send(m)
}

// onRetainedRequest answers a joining node with this node's retained
// messages, in batches.
func (n *Node) onRetainedRequest(m *nats.Msg) {
	if n.mine(m) || n.h.Retained == nil || m.Reply == "" {
		return
	}
	var batch []wireRetained
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		data, err := json.Marshal(batch)
		if err == nil {
			err = n.nc.Publish(m.Reply, data)
		}
		if err != nil {
			n.log.Warn("cluster: send retained messages", "error", err)
		}
		batch, size = nil, 0
	}
	for _, r := range n.h.Retained() {
		if size+len(r.Payload)+len(r.Topic) > retainedBatch {
			flush()
		}
		batch = append(batch, wireRetained{Topic: r.Topic, Payload: r.Payload, QoS: r.QoS})
		size += len(r.Payload) + len(r.Topic)
	}
	flush()
}

// MaxPayload is the largest message NATS takes.
func (n *Node) MaxPayload() int {
	if m := n.nc.MaxPayload(); m > 0 {
		return int(m)
	}
	return 1 << 20 // NATS's default, before the first connection
}

// ID is the node's id in the cluster.
func (n *Node) ID() string { return n.id }

// Ready reports whether the node is in the cluster (connected to NATS).
func (n *Node) Ready() error {
	if !n.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	return nil
}

// Close leaves the cluster.
func (n *Node) Close() {
	select {
	case <-n.stop:
		return
	default:
	}
	close(n.stop)
	if n.listening.Load() {
		n.announce(nodeBye)
	}
	_ = n.nc.Drain()
}

// Failed is how many messages could not be sent to the cluster.
func (n *Node) Failed() int64 { return n.failed.Load() }

// Forward sends an MQTT message accepted on this node to the others.
func (n *Node) Forward(topic string, payload []byte, qos byte, retain bool) {
	m := nats.NewMsg(subjectMessage)
	m.Header.Set(headerOrigin, n.id)
	m.Header.Set(headerTopic, topic)
	m.Header.Set(headerQoS, strconv.Itoa(int(qos)))
	if retain {
		m.Header.Set(headerRetain, "1")
	}
	m.Data = payload
	n.send(m)
}

// RegistryChanged sends the events of a change committed on this node.
func (n *Node) RegistryChanged(events []registry.Event) {
	data, err := json.Marshal(events)
	if err != nil {
		n.log.Error("cluster: encode registry events", "error", err)
		return
	}
	m := nats.NewMsg(subjectRegistry)
	m.Header.Set(headerOrigin, n.id)
	m.Data = data
	n.send(m)
}

// ClientConnected tells the others that clientID connected here at at,
// with a clean session or not.
func (n *Node) ClientConnected(clientID string, at time.Time, cleanSession bool) {
	m := nats.NewMsg(subjectClient)
	m.Header.Set(headerOrigin, n.id)
	m.Header.Set(headerAt, strconv.FormatInt(at.UnixNano(), 10))
	if cleanSession {
		m.Header.Set(headerClean, "1")
	}
	m.Data = []byte(clientID)
	n.send(m)
}

func (n *Node) send(m *nats.Msg) {
	// While NATS is away, nats.go buffers (ReconnectBufSize) and sends on
	// reconnecting; past the buffer, this fails.
	if err := n.nc.PublishMsg(m); err != nil {
		if n.failed.Add(1)%1000 == 1 {
			n.log.Warn("cluster: could not send to NATS", "subject", m.Subject, "error", err)
		}
	}
}

func (n *Node) mine(m *nats.Msg) bool { return m.Header.Get(headerOrigin) == n.id }

func (n *Node) onMessage(m *nats.Msg) {
	if n.mine(m) || n.h.Message == nil {
		return
	}
	qos, _ := strconv.Atoi(m.Header.Get(headerQoS))
	n.h.Message(Message{Topic: m.Header.Get(headerTopic), Payload: m.Data, QoS: byte(qos), Retain: m.Header.Get(headerRetain) == "1"})
}

func (n *Node) onRegistry(m *nats.Msg) {
	if n.mine(m) || n.h.RegistryChanged == nil {
		return
	}
	var events []registry.Event
	if err := json.Unmarshal(m.Data, &events); err != nil {
		n.log.Error("cluster: registry events that do not decode", "error", err)
		return
	}
	n.h.RegistryChanged(events)
}

func (n *Node) onClient(m *nats.Msg) {
	if n.mine(m) || n.h.ClientConnected == nil {
		return
	}
	at, err := strconv.ParseInt(m.Header.Get(headerAt), 10, 64)
	if err != nil {
		n.log.Error("cluster: a client connection without its time", "error", err)
		return
	}
	n.h.ClientConnected(string(m.Data), time.Unix(0, at), m.Header.Get(headerClean) == "1")
}
