package broker

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
)

// events records the server's publishes.
type events struct {
	mu   sync.Mutex
	msgs map[string][]byte
}

func (e *events) Publish(topic string, payload []byte, retain bool, qos byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.msgs == nil {
		e.msgs = map[string][]byte{}
	}
	e.msgs[topic] = payload
	return nil
}

func (e *events) Subscribed(string) bool { return true }

func (e *events) get(t *testing.T, topic string) map[string]any {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(e.msgs[topic], &m); err != nil {
		t.Fatalf("event on %s: %v (%q)", topic, err, e.msgs[topic])
	}
	return m
}

func TestConnectIAM(t *testing.T) {
	ev := &events{}
	g := &Gatekeeper{Registry: &fakeRegistry{}, Account: testAccount, Events: ev,
		IAMAllowed: func(id string) bool { return id == "AKIDADMIN" }}
	ctx := context.Background()

	s, err := g.Connect(ctx, ConnectRequest{IAMAccessKeyID: "AKIDADMIN", ClientID: "console-1", RemoteAddr: "10.0.0.7:4321"}, func(string) {})
	if err != nil {
		t.Fatalf("admin key refused: %v", err)
	}
	if got := s.CertificateID(); got != "" {
		t.Errorf("CertificateID() = %q, want none", got)
	}
	tests := []struct {
		action Action
		topic  string
		want   bool
	}{
		{Connect, "any-client-id", true},
		{Subscribe, "#", true},
		{Subscribe, "$aws/events/#", true},
		{Subscribe, "$iotcore/#", true},
		{Receive, "$aws/events/presence/connected/x", true},
		{Publish, "a/b", true},
		{Publish, "$aws/things/t/shadow/update", true},
		{RetainPublish, "a/b", true},
		{Publish, "$aws/events/presence/connected/x", false},
		{Publish, "$iotcore/anything", false},
		{RetainPublish, "$aws/things/t/shadow/update", false},
	}
	for _, tt := range tests {
		if got := s.Authorize(tt.action, tt.topic); got != tt.want {
			t.Errorf("Authorize(%v, %q) = %v, want %v", tt.action, tt.topic, got, tt.want)
		}
	}
	connected := ev.get(t, "$aws/events/presence/connected/console-1")
	if connected["principalIdentifier"] != "AKIDADMIN" || connected["ipAddress"] != "10.0.0.7" {
		t.Errorf("connected event %v", connected)
	}
	s.Close(DisconnectInfo{ClientInitiated: true, Reason: ReasonClientDisconnect})
	disconnected := ev.get(t, "$aws/events/presence/disconnected/console-1")
	if disconnected["principalIdentifier"] != "AKIDADMIN" || disconnected["disconnectReason"] != ReasonClientDisconnect ||
		disconnected["sessionIdentifier"] != connected["sessionIdentifier"] {
		t.Errorf("disconnected event %v (connected %v)", disconnected, connected)
	}

	// Another key, or none allowed at all: dropped.
	for _, g := range []*Gatekeeper{g, {Registry: &fakeRegistry{}, Account: testAccount}} {
		_, err := g.Connect(ctx, ConnectRequest{IAMAccessKeyID: "AKIDOTHER", ClientID: "x"}, func(string) {})
		var refused *RefusedError
		if !errors.As(err, &refused) || refused.How != Drop {
			t.Errorf("unknown key: %v, want a drop", err)
		}
	}
}
