package mochi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	paho "github.com/eclipse/paho.golang/paho"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/iottest"
)

const (
	wsKeyID  = "AKIAIOTCORETESTKEY01"
	wsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// verifierAuth is the server's WebSocketAuthenticator: a SigV4 verifier for
// service iotdevicegateway that knows one key (internal/server wires the same).
type verifierAuth struct{ v *sigv4.Verifier }

func (a verifierAuth) AuthenticateUpgrade(r *http.Request) (string, error) {
	id, err := a.v.VerifyPresigned(r)
	return id.AccessKeyID, err
}

func withSigV4(c *Config) {
	c.WebSocketAuth = verifierAuth{&sigv4.Verifier{Service: "iotdevicegateway", Secret: func(id string) (string, bool) {
		return wsSecret, id == wsKeyID
	}}}
}

// presignedPath presigns wss://<listener>/mqtt with aws-sdk-go-v2 as the AWS
// device SDKs do (host signed, empty payload, token appended afterwards) and
// returns the path and query to dial.
func (e *env) presignedPath(secret string) string {
	e.t.Helper()
	host := e.b.WebSocketAddr().String()
	req, _ := http.NewRequest(http.MethodGet, "https://"+host+"/mqtt", nil)
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: wsKeyID, SecretAccessKey: secret},
		req, emptySHA256, "iotdevicegateway", "us-east-1", time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(signed)
	return u.RequestURI() + "&X-Amz-Security-Token=" + url.QueryEscape("appended/after+signing")
}

func TestWebSocketSigV4(t *testing.T) {
	e := newEnv(t, withSigV4)
	e.gate.allowAll("console")
	ws, _, err := e.dialWebSocket("", e.presignedPath(wsSecret))
	if err != nil {
		t.Fatalf("presigned upgrade: %v", err)
	}
	c, _, got, err := e.paho5Client(&wsConn{ws: ws}, "console", nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := e.gate.lastRequest()
	if len(req.Chain) != 0 || req.IAMAccessKeyID != wsKeyID {
		t.Errorf("gate saw chain %v, access key %q; want no chain and %s", req.Chain, req.IAMAccessKeyID, wsKeyID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "a/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}

	// A device with a certificate on the same listener still connects; its
	// message reaches the SigV4 subscriber.
	e.gate.allowAll("device")
	dws, _, err := e.dialWebSocket("device", "/mqtt")
	if err != nil {
		t.Fatalf("client certificate on the websocket listener: %v", err)
	}
	d, _, _, err := e.paho5Client(&wsConn{ws: dws}, "device", nil)
	if err != nil {
		t.Fatal(err)
	}
	if req, _ := e.gate.lastRequest(); len(req.Chain) != 1 || req.IAMAccessKeyID != "" {
		t.Errorf("certificate connection: chain %d, access key %q", len(req.Chain), req.IAMAccessKeyID)
	}
	if _, err := d.Publish(ctx, &paho.Publish{Topic: "a/b", QoS: 1, Payload: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	if m := iottest.Receive(t, got, "the device's message"); m != "a/b hello" {
		t.Errorf("received %q", m)
	}
	// And the SigV4 connection publishes.
	if _, err := c.Publish(ctx, &paho.Publish{Topic: "a/c", QoS: 1, Payload: []byte("from console")}); err != nil {
		t.Fatal(err)
	}
	if m := iottest.Receive(t, got, "the console's own message"); m != "a/c from console" {
		t.Errorf("received %q", m)
	}
}

func TestWebSocketSigV4Refusals(t *testing.T) {
	e := newEnv(t, withSigV4)
	e.gate.allowAll("console")
	good := e.presignedPath(wsSecret)
	tests := []struct {
		name string
		path string
	}{
		{"no certificate, no signature", "/mqtt"},
		{"wrong secret", e.presignedPath("not-the-secret")},
		{"tampered query", good + "&extra=1"},
		{"signature of another path", strings.Replace(good, "/mqtt?", "/mqtt/?", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := e.dialWebSocket("", tt.path)
			if err == nil {
				t.Fatal("upgraded")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden && !(strings.HasPrefix(tt.path, "/mqtt/") && resp.StatusCode == http.StatusNotFound) {
				t.Errorf("response %v (%v); want 403", resp, err)
			}
		})
	}
	if n := e.gate.requestCount(); n != 0 {
		t.Errorf("the gate saw %d CONNECTs; refusals happen at the upgrade", n)
	}
	if n := e.b.Stats().UpgradesRefused; n != 3 { // the other path is not /mqtt: 404
		t.Errorf("Stats().UpgradesRefused = %d, want 3", n)
	}

	// Without WebSocketAuth, a signed URL is refused too.
	e2 := newEnv(t)
	_, resp, err := e2.dialWebSocket("", e2.presignedPath(wsSecret))
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("no WebSocketAuth: %v, %v; want 403", resp, err)
	}
}

// TestWebSocketTTL: a WebSocket connection is closed once it has lived
// WebSocketTTL, as AWS closes them after 24 hours, and the gate hears
// WEBSOCKET_TTL_EXPIRATION; an MQTT 5 client gets DISCONNECT 0xA0.
func TestWebSocketTTL(t *testing.T) {
	e := newEnv(t, withSigV4, func(c *Config) { c.WebSocketTTL = 300 * time.Millisecond })
	e.gate.allowAll("console")
	ws, _, err := e.dialWebSocket("", e.presignedPath(wsSecret))
	if err != nil {
		t.Fatalf("presigned upgrade: %v", err)
	}
	disconnected := make(chan byte, 1)
	if _, _, _, err := e.paho5Client(&wsConn{ws: ws}, "console", func(d *paho.Disconnect) { disconnected <- d.ReasonCode }); err != nil {
		t.Fatal(err)
	}
	if code := iottest.Receive(t, disconnected, "the DISCONNECT at the TTL"); code != 0xA0 {
		t.Errorf("DISCONNECT reason code %#x, want 0xA0 (maximum connect time)", code)
	}
	s := e.gate.session("console", 0)
	iottest.Receive(t, s.closed, "the session to close")
	if s.info.Reason != "WEBSOCKET_TTL_EXPIRATION" {
		t.Errorf("disconnect reason %q, want WEBSOCKET_TTL_EXPIRATION", s.info.Reason)
	}
}
