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
	c := &client{lost: make(chan error, 1)}
	opts := paho.NewClientOptions().AddBroker("tls://" + gw.MQTTAddr().String()).SetClientID(id).
		SetTLSConfig(&tls.Config{RootCAs: gw.RootCAs, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true).
		SetConnectionLostHandler(func(_ paho.Client, err error) { c.lost <- err })
	c.Client = paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("%s connects to %s: %v", id, gw.APIURL(), tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
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
