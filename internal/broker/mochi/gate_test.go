package mochi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/iotcore/iotcore/internal/broker"
)

// fakeGate is a hand-written broker.Gate: connections are refused by the
// leaf certificate's CN, actions allowed by client id and topic pattern.
// It fails the test if the broker calls a session after closing it.
type fakeGate struct {
	t *testing.T

	mu       sync.Mutex
	refusals map[string]error          // by certificate CN
	rules    map[string][]rule         // by client id; "*" for all
	sessions map[string][]*fakeSession // by client id, in connect order
	requests []broker.ConnectRequest   // every Connect, in order
	hold     map[string]chan struct{}  // by client id: Connect waits until closed or ctx ends
	kicks    map[string]func(string)   // by client id, the last Connect's
}

type rule struct {
	action  broker.Action
	pattern string // exact, "prefix/#" (the prefix and below) or "*"
}

func (r rule) match(action broker.Action, s string) bool {
	if r.action != action {
		return false
	}
	switch {
	case r.pattern == "*":
		return true
	case strings.HasSuffix(r.pattern, "#"):
		return strings.HasPrefix(s, strings.TrimSuffix(r.pattern, "#"))
	}
	return r.pattern == s
}

func newFakeGate(t *testing.T) *fakeGate {
	return &fakeGate{
		t:        t,
		refusals: map[string]error{},
		rules:    map[string][]rule{},
		sessions: map[string][]*fakeSession{},
		hold:     map[string]chan struct{}{},
		kicks:    map[string]func(string){},
	}
}

// allow lets client (or "*": every client) do action on patterns.
func (g *fakeGate) allow(client string, action broker.Action, patterns ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range patterns {
		g.rules[client] = append(g.rules[client], rule{action, p})
	}
}

// revoke removes every rule of client for action.
func (g *fakeGate) revoke(client string, action broker.Action) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var kept []rule
	for _, r := range g.rules[client] {
		if r.action != action {
			kept = append(kept, r)
		}
	}
	g.rules[client] = kept
}

// allowAll lets client do everything.
func (g *fakeGate) allowAll(client string) {
	for _, a := range []broker.Action{broker.Publish, broker.RetainPublish, broker.Subscribe, broker.Receive} {
		g.allow(client, a, "*")
	}
}

// refuse makes Connect fail for certificates with this CN.
func (g *fakeGate) refuse(cn string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refusals[cn] = err
}

// holdConnect makes Connect for client wait until the returned function is
// called or its context ends.
func (g *fakeGate) holdConnect(client string) (release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch := make(chan struct{})
	g.hold[client] = ch
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

func (g *fakeGate) allowed(client string, action broker.Action, s string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range append(g.rules[client], g.rules["*"]...) {
		if r.match(action, s) {
			return true
		}
	}
	return false
}

func (g *fakeGate) Connect(ctx context.Context, req broker.ConnectRequest, kick func(string)) (broker.Session, error) {
	g.mu.Lock()
	g.requests = append(g.requests, req)
	g.kicks[req.ClientID] = kick
	hold := g.hold[req.ClientID]
	var err error
	if len(req.Chain) == 0 && req.IAMAccessKeyID == "" {
		err = &broker.RefusedError{How: broker.Drop, Reason: "no certificate"}
	} else if len(req.Chain) == 0 {
		// An IAM identity (SigV4 WebSocket): admitted, decided by client id.
	} else if e, ok := g.refusals[req.Chain[0].Subject.CommonName]; ok {
		err = e
	}
	g.mu.Unlock()

	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	s := &fakeSession{g: g, req: req, kick: kick, closed: make(chan struct{})}
	g.mu.Lock()
	g.sessions[req.ClientID] = append(g.sessions[req.ClientID], s)
	g.mu.Unlock()
	return s, nil
}

// session returns the i-th session admitted for client, nil if none.
func (g *fakeGate) session(client string, i int) *fakeSession {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i >= len(g.sessions[client]) {
		return nil
	}
	return g.sessions[client][i]
}

func (g *fakeGate) sessionCount(client string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sessions[client])
}

// kick returns the kick function the last Connect for client received.
func (g *fakeGate) kick(client string) func(string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.kicks[client]
}

func (g *fakeGate) lastRequest() (broker.ConnectRequest, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.requests) == 0 {
		return broker.ConnectRequest{}, false
	}
	return g.requests[len(g.requests)-1], true
}

// fakeSession is one admitted connection.
type fakeSession struct {
	g        *fakeGate
	req      broker.ConnectRequest
	kick     func(string)
	isClosed atomic.Bool
	closed   chan struct{}
	info     broker.DisconnectInfo // what Close was told; read after closed
}

func (s *fakeSession) Authorize(action broker.Action, topic string) bool {
	if s.isClosed.Load() {
		s.g.t.Errorf("session %q: Authorize(%v, %q) after Close", s.req.ClientID, action, topic)
	}
	return s.g.allowed(s.req.ClientID, action, topic)
}

// CertificateID names the fake certificate after the client id.
func (s *fakeSession) CertificateID() string { return "cert-" + s.req.ClientID }

func (s *fakeSession) Close(info broker.DisconnectInfo) {
	if !s.isClosed.CompareAndSwap(false, true) {
		s.g.t.Errorf("session %q closed twice", s.req.ClientID)
		return
	}
	s.info = info
	close(s.closed)
}

func (s *fakeSession) wasClosed() bool { return s.isClosed.Load() }

var errGateDown = errors.New("registry unavailable")

func (g *fakeGate) requestCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.requests)
}
