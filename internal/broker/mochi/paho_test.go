package mochi

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"

	pahopackets "github.com/eclipse/paho.golang/packets"
	paho "github.com/eclipse/paho.golang/paho"
	paho3 "github.com/eclipse/paho.mqtt.golang"
	paho3packets "github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/iottest"
)

// paho3Client connects an MQTT 3.1.1 client (paho.mqtt.golang) as device
// cn with client id, returning it with a channel told when the connection
// is lost.
func (e *env) paho3Client(cn, id string) (paho3.Client, <-chan error, error) {
	e.t.Helper()
	lost := make(chan error, 1)
	opts := paho3.NewClientOptions().
		AddBroker("tls://" + e.b.Addr().String()).
		SetTLSConfig(e.clientTLS(cn)).
		SetClientID(id).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(waitTimeout).
		SetConnectionLostHandler(func(_ paho3.Client, err error) { lost <- err })
	c := paho3.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(waitTimeout) {
		e.t.Fatal("paho3: connect timed out")
	}
	if tok.Error() == nil {
		e.t.Cleanup(func() { c.Disconnect(0) })
	}
	return c, lost, tok.Error()
}

func TestPaho3(t *testing.T) {
	e := newEnv(t)
	e.gate.allow("sub", broker.Subscribe, "open/#")
	e.gate.allow("sub", broker.Receive, "open/#")
	e.gate.allow("pub", broker.Publish, "open/#")
	e.gate.refuse("not-authorized", &broker.RefusedError{How: broker.NotAuthorized})
	e.gate.refuse("dropped", &broker.RefusedError{How: broker.Drop})

	if _, _, err := e.paho3Client("not-authorized", "x"); !errors.Is(err, paho3packets.ErrorRefusedNotAuthorised) {
		t.Errorf("not authorized: connect error %v, want %v", err, paho3packets.ErrorRefusedNotAuthorised)
	}
	if _, _, err := e.paho3Client("dropped", "x"); err == nil {
		t.Error("dropped: connected")
	}

	sub, _, err := e.paho3Client("device", "sub")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	tok := sub.SubscribeMultiple(map[string]byte{"open/#": 1, "closed/#": 1}, func(_ paho3.Client, m paho3.Message) {
		got <- m.Topic() + " " + string(m.Payload())
	})
	if !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if r := tok.(*paho3.SubscribeToken).Result(); r["open/#"] != 1 || r["closed/#"] != 0x80 {
		t.Errorf("SUBACK %v, want open/# 1, closed/# 0x80", r)
	}

	pub, lost, err := e.paho3Client("device", "pub")
	if err != nil {
		t.Fatal(err)
	}
	if tok := pub.Publish("open/1", 1, false, "hello"); !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	if m := iottest.Receive(t, got, "the first message"); m != "open/1 hello" {
		t.Errorf("received %q", m)
	}
	// A denied publish closes an MQTT 3.1.1 connection [AWS 7.4].
	pub.Publish("closed/1", 1, false, "denied")
	if err := iottest.Receive(t, lost, "the connection to be lost"); err == nil {
		t.Error("connection lost without an error")
	}
}

// paho5Client connects an MQTT 5 client (paho.golang) over conn, returning
// it with its CONNACK and a channel of the messages it receives ("topic
// payload").
func (e *env) paho5Client(conn net.Conn, id string, onDisconnect func(*paho.Disconnect)) (*paho.Client, *paho.Connack, <-chan string, error) {
	e.t.Helper()
	got := make(chan string, 10)
	c := paho.NewClient(paho.ClientConfig{
		Conn: pahopackets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(p paho.PublishReceived) (bool, error) {
			got <- p.Packet.Topic + " " + string(p.Packet.Payload)
			return true, nil
		}},
		OnServerDisconnect: onDisconnect,
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 60})
	if err == nil {
		e.t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	}
	return c, ack, got, err
}

func (e *env) dialTLS(cn string) net.Conn {
	e.t.Helper()
	c, err := tls.Dial("tcp", e.b.Addr().String(), e.clientTLS(cn))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestPaho5(t *testing.T) {
	e := newEnv(t)
	e.gate.allow("sub", broker.Subscribe, "open/#")
	e.gate.allow("sub", broker.Receive, "open/#")
	e.gate.allow("pub", broker.Publish, "open/#")
	e.gate.refuse("not-authorized", &broker.RefusedError{How: broker.NotAuthorized})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	if _, ack, _, err := e.paho5Client(e.dialTLS("not-authorized"), "x", nil); err == nil || ack == nil || ack.ReasonCode != 0x87 {
		t.Errorf("not authorized: CONNACK %+v, error %v; want 0x87", ack, err)
	}

	sub, _, got, err := e.paho5Client(e.dialTLS("device"), "sub", nil)
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := sub.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "open/#", QoS: 1}, {Topic: "closed/#", QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 2 || sa.Reasons[0] != 1 || sa.Reasons[1] != 0x87 {
		t.Errorf("SUBACK %+v, want [1 0x87]", sa)
	}

	disconnected := make(chan byte, 1)
	pub, _, _, err := e.paho5Client(e.dialTLS("device"), "pub", func(d *paho.Disconnect) { disconnected <- d.ReasonCode })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, &paho.Publish{Topic: "open/1", QoS: 1, Payload: []byte("hello")}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if m := iottest.Receive(t, got, "the first message"); m != "open/1 hello" {
		t.Errorf("received %q", m)
	}
	// MQTT 5 QoS 1: PUBACK 0x87, and the connection stays.
	if r, _ := pub.Publish(ctx, &paho.Publish{Topic: "closed/1", QoS: 1, Payload: []byte("denied")}); r == nil || r.ReasonCode != 0x87 {
		t.Errorf("denied publish: response %+v, want 0x87", r)
	}
	if _, err := pub.Publish(ctx, &paho.Publish{Topic: "open/2", QoS: 1, Payload: []byte("again")}); err != nil {
		t.Fatalf("publish after a denial: %v", err)
	}
	if m := iottest.Receive(t, got, "the second message"); m != "open/2 again" {
		t.Errorf("received %q", m)
	}
	// Kicked: DISCONNECT 0x87.
	e.gate.session("pub", 0).kick("revoked")
	if code := iottest.Receive(t, disconnected, "the DISCONNECT"); code != 0x87 {
		t.Errorf("kicked: DISCONNECT %#x, want 0x87", code)
	}
}
