package cluster_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/cluster/natstest"
	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/postgres/pgtest"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// ready reports whether a node's /readyz answers 200.
func ready(t *testing.T, gw *servertest.Gateway) bool {
	res, err := http.Get(gw.APIURL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// device is a certificate allowed everything, made through node.
func device(t *testing.T, gw *servertest.Gateway) tls.Certificate {
	t.Helper()
	cert, _ := gw.AllowedEverything(t)
	return cert
}

// client is a connected device and the connection-lost errors it sees.
type client struct {
	paho.Client
	lost chan error
}

func connect(t *testing.T, gw *servertest.Gateway, id string, cert tls.Certificate) *client {
	t.Helper()
	c, _ := connectSession(t, gw, id, cert, true, nil)
	return c
}

// connectSession connects with a clean session or not; messages the
// session had queued go to resumed. It returns whether the server said the
// session was present.
func connectSession(t *testing.T, gw *servertest.Gateway, id string, cert tls.Certificate, clean bool, resumed chan<- paho.Message) (*client, bool) {
	t.Helper()
	c := &client{lost: make(chan error, 1)}
	opts := paho.NewClientOptions().AddBroker("tls://" + gw.MQTTAddr().String()).SetClientID(id).
		SetTLSConfig(&tls.Config{RootCAs: gw.RootCAs, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(clean).
		SetConnectionLostHandler(func(_ paho.Client, err error) { c.lost <- err })
	if resumed != nil {
		opts.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { resumed <- m })
	}
	c.Client = paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("%s connects to %s: %v", id, gw.APIURL(), tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, tok.(*paho.ConnectToken).SessionPresent()
}

func (c *client) subscribe(t *testing.T, filter string, qos byte) <-chan paho.Message {
	t.Helper()
	got := make(chan paho.Message, 4096)
	if tok := c.Subscribe(filter, qos, func(_ paho.Client, m paho.Message) { got <- m }); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return got
}

func (c *client) publish(t *testing.T, topic string, qos byte, retain bool, payload string) {
	t.Helper()
	if tok := c.Publish(topic, qos, retain, payload); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// TestTwoNodes runs two gateways on one PostgreSQL database and one NATS
// server, and checks what a cluster promises: messages cross nodes at QoS 0
// and 1, retained messages too, a client id connected on one node is taken
// over by a connection on the other, a revocation through one node
// disconnects the device on the other, and a NATS restart leaves both not
// ready, then back.
func TestTwoNodes(t *testing.T) {
	nats := natstest.Start(t)
	url := pgtest.Database(t)
	join := func(c *server.Config) {
		c.DatabaseURL, c.ClusterURL = url, nats.URL()
		c.MQTT.PublishRate = -1 // the test publishes faster than AWS's 100/s per connection
	}
	a, b := servertest.Start(t, join), servertest.Start(t, join)
	iottest.WaitFor(t, "both nodes ready", func() bool { return ready(t, a) && ready(t, b) })
	cert := device(t, a)

	sub := connect(t, b, "subscriber", cert)
	got1 := sub.subscribe(t, "plant/+/temp", 1)
	got0 := sub.subscribe(t, "plant/+/hum", 0)
	pub := connect(t, a, "publisher", cert)
	const n = 200
	for i := range n {
		pub.publish(t, "plant/7/temp", 1, false, strconv.Itoa(i))
		pub.publish(t, "plant/7/hum", 0, false, strconv.Itoa(i))
	}
	for i := range n {
		m := iottest.Receive(t, got1, fmt.Sprintf("QoS 1 message %d on the other node", i))
		if string(m.Payload()) != strconv.Itoa(i) {
			t.Fatalf("QoS 1 message %d arrived as %q: out of order or lost", i, m.Payload())
		}
	}
	iottest.WaitFor(t, "every QoS 0 message", func() bool { return len(got0) == n })

	// Retained on A, received by a new subscription on B.
	pub.publish(t, "plant/7/config", 1, true, `{"interval":30}`)
	late := connect(t, b, "late", cert)
	iottest.WaitFor(t, "the retained message on the other node", func() bool {
		select {
		case m := <-late.subscribe(t, "plant/7/config", 1):
			return string(m.Payload()) == `{"interval":30}` && m.Retained()
		case <-time.After(time.Second):
			late.Unsubscribe("plant/7/config").WaitTimeout(time.Second)
			return false
		}
	})

	// A client id connected on A, then on B: A's connection goes. Each
	// connection's lifecycle event reaches B's subscriber once: the node
	// where it happened publishes it, the other only delivers it.
	events := sub.subscribe(t, "$aws/events/presence/connected/pump-7", 1)
	sentinel := sub.subscribe(t, "sentinel", 1)
	first := connect(t, a, "pump-7", cert)
	connect(t, b, "pump-7", cert)
	iottest.Receive(t, first.lost, "the takeover of pump-7 on the other node")
	pub.publish(t, "sentinel", 1, false, "after the events") // A's messages arrive in order
	iottest.Receive(t, sentinel, "the sentinel after the lifecycle events")
	if n := len(events); n != 2 {
		t.Errorf("%d connected events for pump-7's two connections, want 2", n)
	}

	// Revoked through A, a device on B is disconnected.
	other := device(t, a)
	onB := connect(t, b, "valve-2", other)
	id := pki.CertificateID(other.Certificate[0])
	if _, err := a.Client.UpdateCertificate(context.Background(), &iot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: "REVOKED"}); err != nil {
		t.Fatal(err)
	}
	iottest.Receive(t, onB.lost, "the device on the other node to be disconnected after its revocation")

	// NATS goes away: both nodes say they are not ready, and come back.
	nats.Stop()
	iottest.WaitFor(t, "both nodes not ready without NATS", func() bool { return !ready(t, a) && !ready(t, b) })
	nats.Start()
	iottest.WaitFor(t, "both nodes ready again", func() bool { return ready(t, a) && ready(t, b) })
	iottest.WaitFor(t, "messages crossing nodes again", func() bool {
		pub.publish(t, "plant/8/temp", 1, false, "back")
		select {
		case m := <-got1:
			return string(m.Payload()) == "back"
		case <-time.After(500 * time.Millisecond):
			return false
		}
	})
}

// TestLateNodeGetsRetainedMessages: a node that joins after a retained
// message was published asks the others for theirs, and its subscribers get
// it.
func TestLateNodeGetsRetainedMessages(t *testing.T) {
	nats := natstest.Start(t)
	url := pgtest.Database(t)
	join := func(c *server.Config) { c.DatabaseURL, c.ClusterURL = url, nats.URL() }
	a := servertest.Start(t, join)
	iottest.WaitFor(t, "node A ready", func() bool { return ready(t, a) })
	cert := device(t, a)
	pub := connect(t, a, "publisher", cert)
	pub.publish(t, "plant/7/config", 1, true, `{"interval":30}`)

	b := servertest.Start(t, join)
	iottest.WaitFor(t, "node B ready", func() bool { return ready(t, b) })
	sub := connect(t, b, "late", cert)
	iottest.WaitFor(t, "the retained message on the node that joined later", func() bool {
		got := sub.subscribe(t, "plant/7/config", 1)
		defer sub.Unsubscribe("plant/7/config").WaitTimeout(time.Second)
		select {
		case m := <-got:
			return string(m.Payload()) == `{"interval":30}` && m.Retained()
		case <-time.After(200 * time.Millisecond):
			return false
		}
	})
}

// TestPersistentSessionMovesBetweenNodes: a device with a persistent
// session (clean session off) that reconnects to another node finds its
// session there, as on AWS where any node may serve it: its subscriptions
// hold, and the QoS 1 messages published while it was away arrive. The
// node it left keeps nothing of it; a clean session on one node ends the
// persistent session held on another.
func TestPersistentSessionMovesBetweenNodes(t *testing.T) {
	nats := natstest.Start(t)
	url := pgtest.Database(t)
	join := func(c *server.Config) {
		c.DatabaseURL, c.ClusterURL = url, nats.URL()
		c.MQTT.PublishRate = -1
	}
	a, b := servertest.Start(t, join), servertest.Start(t, join)
	iottest.WaitFor(t, "both nodes ready", func() bool { return ready(t, a) && ready(t, b) })
	cert := device(t, a)
	pub := connect(t, a, "publisher", cert)

	// Subscribed on A, then away.
	dev, present := connectSession(t, a, "meter-1", cert, false, nil)
	if present {
		t.Fatal("a new persistent session was said to be present")
	}
	dev.subscribe(t, "meters/1/cmd", 1)
	dev.Disconnect(100)
	const n = 20
	for i := range n {
		pub.publish(t, "meters/1/cmd", 1, false, strconv.Itoa(i))
	}
	// Every message is queued on A before the device comes back, on B.
	iottest.WaitFor(t, "the messages queued on node A", func() bool { return a.Broker.Stats().Inflight >= n })

	resumed := make(chan paho.Message, 2*n)
	dev, present = connectSession(t, b, "meter-1", cert, false, resumed)
	if !present {
		t.Fatal("the session was not present on the other node")
	}
	got := map[string]bool{}
	for len(got) < n {
		m := iottest.Receive(t, resumed, fmt.Sprintf("queued message %d on the other node", len(got)))
		got[string(m.Payload())] = true
	}
	// The subscription came along: live messages from A reach the device on B.
	pub.publish(t, "meters/1/cmd", 1, false, "live")
	iottest.WaitFor(t, "a live message through the moved subscription", func() bool {
		select {
		case m := <-resumed:
			return string(m.Payload()) == "live"
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	if st := a.Broker.Stats(); st.Inflight != 0 || st.SessionsHandedOver != 1 {
		t.Errorf("node A after the hand-over: %d messages queued, %d sessions handed over; want 0 and 1", st.Inflight, st.SessionsHandedOver)
	}

	// Back to A while still connected to B: B's connection is taken over
	// and the session moves back, subscription included.
	back := make(chan paho.Message, 2*n)
	again, present := connectSession(t, a, "meter-1", cert, false, back)
	if !present {
		t.Fatal("the session was not present when the device moved back")
	}
	iottest.Receive(t, dev.lost, "the device's connection on node B to be taken over")
	pub.publish(t, "meters/1/cmd", 1, false, "home")
	if m := iottest.Receive(t, back, "a message on the session moved back"); string(m.Payload()) != "home" {
		t.Fatalf("got %q, want home", m.Payload())
	}

	// A clean session on B ends the persistent one left on A.
	again.Disconnect(100)
	iottest.WaitFor(t, "the device gone from node A", func() bool { return a.Broker.Stats().Connections == 1 })
	connect(t, b, "meter-1", cert).Disconnect(100)
	iottest.WaitFor(t, "node A to end the session", func() bool { return a.Broker.Stats().SessionsDropped == 1 })
	if _, present := connectSession(t, a, "meter-1", cert, false, nil); present {
		t.Fatal("a session was present after a clean session ended it")
	}
}
