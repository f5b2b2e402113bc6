package mochi

import (
	"bufio"
	"context"
	"net/http"
	"testing"

	paho "github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/iottest"
)

// dialWebSocket opens wss://.../path as device cn (no certificate if "").
func (e *env) dialWebSocket(cn, path string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{TLSClientConfig: e.clientTLS(cn), Subprotocols: []string{"mqtt"}, HandshakeTimeout: waitTimeout}
	ws, resp, err := d.Dial("wss://"+e.b.WebSocketAddr().String()+path, nil)
	if err == nil {
		e.t.Cleanup(func() { _ = ws.Close() })
	}
	return ws, resp, err
}

func TestWebSocket(t *testing.T) {
	e := newEnv(t)
	e.gate.allowAll("ws")
	ws, _, err := e.dialWebSocket("ws-device", "/mqtt")
	if err != nil {
		t.Fatal(err)
	}
	if ws.Subprotocol() != "mqtt" {
		t.Errorf("subprotocol %q, want mqtt", ws.Subprotocol())
	}

	c, _, got, err := e.paho5Client(&wsConn{ws: ws}, "ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := e.gate.lastRequest()
	if len(req.Chain) != 1 || req.Chain[0].Subject.CommonName != "ws-device" || req.ServerName != "localhost" {
		t.Errorf("gate saw chain %v, SNI %q", req.Chain, req.ServerName)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "ws/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	// Large enough to span WebSocket frames and MQTT reads.
	payload := make([]byte, 100_000)
	if _, err := c.Publish(ctx, &paho.Publish{Topic: "ws/big", QoS: 1, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	if m := iottest.Receive(t, got, "the large message"); m != "ws/big "+string(payload) {
		t.Errorf("received %d bytes", len(m))
	}
}

func TestWebSocketRefusals(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.dialWebSocket("", "/mqtt"); err == nil {
		t.Error("no client certificate: upgraded")
	}
	if _, resp, err := e.dialWebSocket("device", "/other"); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong path: %v, %v", resp, err)
	}

	// Denials as on the MQTT port.
	e.gate.allow("ws", broker.Publish, "open/#")
	ws, _, err := e.dialWebSocket("device", "/mqtt")
	if err != nil {
		t.Fatal(err)
	}
	conn := &wsConn{ws: ws}
	c := &rawClient{t: t, c: conn, r: bufio.NewReader(conn), v: 4}
	c.mustConnect("ws")
	c.publish("closed/x", "denied", 0, false, 0)
	c.expectClosed()
}
