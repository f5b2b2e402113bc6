package mqttserver

import (
	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// Hooks are the adapter's decisions. The engine calls them from the
// connection's own goroutine unless a method says otherwise; they must not
// block for long, except OnConnect.
type Hooks interface {
	// OnConnect decides a valid CONNECT before any CONNACK: it returns
	// packet.Success to admit the client, or the MQTT 5 reason code to
	// refuse it with (the engine maps it to an MQTT 3.1.1 return code), or
	// Drop to close the connection without a CONNACK. It may set the
	// client's keep-alive (Client.SetKeepAlive) and its value
	// (Client.SetValue). It runs on a goroutine of its own, so that the
	// deep stack it may need is not kept by the connection's.
	OnConnect(c *Client, pk *packet.Connect) byte
	// OnConnectRefused runs when the engine itself refuses a connection
	// before OnConnect: its CONNECT was malformed (pk nil; why is a
	// *packet.Error) or asked for what the server does not do (an
	// unsupported protocol version, a will at QoS 2, enhanced
	// authentication).
	OnConnectRefused(c *Client, pk *packet.Connect, why error)
	// OnConnected runs once the CONNACK admitting c is queued, before any
	// other packet is read from it.
	OnConnected(c *Client, sessionPresent bool)
	// OnDisconnect runs once when an admitted client's connection has
	// ended: err is nil after a DISCONNECT from the client, and the cause
	// otherwise. The will, if any, has been dealt with.
	OnDisconnect(c *Client, err error)
	// OnPublish decides a PUBLISH from c (pk.Topic is resolved from its
	// alias): what to do with it, and the reason code of a Discard or a
	// Refuse.
	OnPublish(c *Client, pk *packet.Publish) (Verdict, byte)
	// OnPublished runs after a PUBLISH that OnPublish let through
	// (Route or Accept) is acknowledged (its PUBACK queued first) and
	// routed.
	OnPublished(c *Client, pk *packet.Publish)
	// OnWill decides c's will when it is due: true publishes it. It runs
	// on the goroutine of c's connection, or of the will's delay timer.
	OnWill(c *Client, pk *packet.Publish) bool
	// OnSubscribe decides the filters of a SUBSCRIBE from c. codes holds
	// one reason code per filter, filled in by the engine: the QoS asked
	// (at most 1) for a valid filter, 0x8F for an invalid one. It changes
	// the codes of the valid filters it refuses to a failure code (0x80 or
	// more; an MQTT 3.1.1 client is sent 0x80), or lowers their QoS.
	OnSubscribe(c *Client, pk *packet.Subscribe, codes []byte)
	// MayDeliver decides one delivery of a message on topic to c; it runs
	// on the goroutine that publishes.
	MayDeliver(c *Client, topic string) bool
	// OnDropped counts a message that was not delivered to c: its queue was
	// full, or it expired.
	OnDropped(c *Client, topic string, why DropReason)
}

// Drop is OnConnect's answer for a connection to close without a CONNACK.
const Drop byte = 0xFF

// Verdict is OnPublish's decision on a PUBLISH.
type Verdict byte

// What OnPublish may decide.
const (
	// Route acknowledges the PUBLISH and routes it to the subscribers.
	Route Verdict = iota
	// Accept acknowledges it and routes it to no one (the adapter has
	// other plans for it).
	Accept
	// Discard drops it and keeps the connection: a QoS 1 PUBLISH from an
	// MQTT 5 client gets a PUBACK with the reason code; anything else
	// gets nothing.
	Discard
	// Refuse drops it and answers as AWS IoT Core does: an MQTT 3.1.1
	// client is disconnected; an MQTT 5 client gets a PUBACK with the
	// reason code at QoS 1, a DISCONNECT with it at QoS 0.
	Refuse
	// Close drops it and ends the connection: an MQTT 5 client gets a
	// DISCONNECT with the reason code first.
	Close
)

// DropReason says why a message was not delivered.
type DropReason int

// Why a message was dropped.
const (
	DropQueueFull    DropReason = iota + 1 // the connection's outbound queue
	DropInflightFull                       // the session's QoS 1 queue (Options.MaxInflight)
	DropExpired                            // its Message Expiry Interval passed
	DropTooLarge                           // over the client's Maximum Packet Size [MQTT-3.1.2-25]
)
