package broker

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestConnectionsListPagesAndDisconnect(t *testing.T) {
	g := &Gatekeeper{Registry: &fakeRegistry{}, Account: testAccount, IAMAllowed: func(string) bool { return true }}
	ctx := context.Background()
	kicked := map[string]string{}
	sessions := map[string]Session{}
	for _, id := range []string{"sensor-2", "console-1", "sensor-1", "sensor-3"} {
		s, err := g.Connect(ctx, ConnectRequest{IAMAccessKeyID: "AKID", ClientID: id, RemoteAddr: "10.0.0.9:1"}, func(why string) { kicked[id] = why })
		if err != nil {
			t.Fatal(err)
		}
		sessions[id] = s
	}
	page, more := g.Connections(ConnectionPage{Prefix: "sensor-", Limit: 2})
	if len(page) != 2 || !more || page[0].ClientID != "sensor-1" || page[1].ClientID != "sensor-2" {
		t.Fatalf("first page %+v more=%v, want sensor-1, sensor-2 and more", page, more)
	}
	if page[0].RemoteAddr != "10.0.0.9:1" || !page[0].IAM || page[0].Principal != "AKID" || page[0].Since.IsZero() {
		t.Errorf("connection %+v", page[0])
	}
	page, more = g.Connections(ConnectionPage{Prefix: "sensor-", After: "sensor-2", Limit: 2})
	if len(page) != 1 || more || page[0].ClientID != "sensor-3" {
		t.Fatalf("second page %+v more=%v, want sensor-3 alone", page, more)
	}
	if n := g.Disconnect("sensor-2", "the operator said so"); n != 1 || kicked["sensor-2"] != "the operator said so" {
		t.Fatalf("Disconnect = %d, kicked %v", n, kicked)
	}
	if n := g.Disconnect("nobody", "x"); n != 0 {
		t.Errorf("Disconnect(nobody) = %d", n)
	}
	sessions["sensor-2"].Close(DisconnectInfo{})
	if got := g.ConnectionCount(); got != 3 {
		t.Errorf("ConnectionCount after a close = %d, want 3", got)
	}
	all, _ := g.Connections(ConnectionPage{})
	for _, c := range all {
		if c.ClientID == "sensor-2" {
			t.Errorf("closed session still listed: %+v", c)
		}
	}
}

// BenchmarkConnectionsPage lists one page of 100,000 connections, as the
// console's connected-devices page does at each request.
func BenchmarkConnectionsPage(b *testing.B) {
	g := &Gatekeeper{Registry: &fakeRegistry{}, Account: testAccount, IAMAllowed: func(string) bool { return true }}
	for i := range 100_000 {
		if _, err := g.Connect(context.Background(), ConnectRequest{IAMAccessKeyID: "AKID", ClientID: fmt.Sprintf("device-%06d", (i*7919)%100_000)}, func(string) {}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if page, _ := g.Connections(ConnectionPage{After: "device-050000", Limit: 50}); len(page) != 50 {
			b.Fatalf("page of %d", len(page))
		}
	}
}

// TestTakenOverElsewhereSparesNewerConnections: news that a client id
// connected to another node ends this node's connection of it only if that
// one is older; one admitted here afterwards (the device came back) stays.
func TestTakenOverElsewhereSparesNewerConnections(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var told []string
	g := &Gatekeeper{Registry: &fakeRegistry{}, Account: testAccount, IAMAllowed: func(string) bool { return true },
		Now:      func() time.Time { return now },
		Admitted: func(id string, at time.Time, clean bool) { told = append(told, fmt.Sprintln(id, at.Equal(now), clean)) }}
	kicked := 0
	if _, err := g.Connect(context.Background(), ConnectRequest{IAMAccessKeyID: "AKID", ClientID: "pump-1", CleanSession: true},
		func(string) { kicked++ }); err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 || told[0] != "pump-1 true true\n" {
		t.Fatalf("Admitted was told %q, want the client id, the time and the clean session", told)
	}
	if n := g.TakenOverElsewhere("pump-1", now); n != 0 || kicked != 0 {
		t.Fatalf("a connection elsewhere no newer than this one ended %d here", n)
	}
	if n := g.TakenOverElsewhere("pump-1", now.Add(time.Millisecond)); n != 1 || kicked != 1 {
		t.Fatalf("a newer connection elsewhere ended %d here (kicked %d), want 1", n, kicked)
	}
}
