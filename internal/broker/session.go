package broker

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/policy"
	"github.com/iotcore/iotcore/internal/registry"
)

// session is one admitted connection and its compiled policies.
type session struct {
	gate      *Gatekeeper
	certID    string
	cert      *x509.Certificate
	clientID  string
	kick      func(reason string)
	connected time.Time
	remote    string // the peer's address
	id        string
	arnPrefix string // arn:aws:iot:<region>:<account>:
	slot      uint32 // its shard of the gate's live sessions (livesessions.go)

	set    atomic.Pointer[policy.Set]
	kicked atomic.Bool

	mu       sync.Mutex
	policies map[string]bool // names of the effective policies
	things   map[string]bool // names of the things attached to the certificate
	groups   map[string]bool // the things' groups and their ancestors
	closed   bool
	// subjects are what the live sessions' index holds the session under,
	// while indexed: the gate finds it by them when the registry changes.
	subjects []subject
	indexed  bool
}

// load compiles the session's policies from pc, or from the registry's
// current state if pc is nil.
func (s *session) load(ctx context.Context, pc *registry.PrincipalContext) error {
	if pc == nil {
		var err error
		if pc, err = s.gate.Registry.PrincipalContext(ctx, s.certID); err != nil {
			if iot.IsCode(err, iot.ResourceNotFound) { // deleted
				return &RefusedError{How: Drop, Reason: "certificate " + s.certID + " was deleted"}
			}
			return err
		}
	}
	if pc.Certificate.Status != iot.StatusActive {
		return &RefusedError{How: Drop, Reason: "certificate " + s.certID + " is " + pc.Certificate.Status}
	}
	vars := connectionVariables(s.clientID, s.certID, s.cert, connectionThing(s.clientID, pc.Things))
	set, names := s.gate.compile(pc, vars)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies = map[string]bool{}
	for _, n := range names {
		s.policies[n] = true
	}
	s.things = map[string]bool{}
	for _, t := range pc.Things {
		s.things[t.Name] = true
	}
	s.groups = map[string]bool{}
	for _, g := range pc.Groups {
		s.groups[g] = true
	}
	if s.id == "" {
		s.id = uuid.NewString()
	}
	old := s.subjects
	s.subjects = s.subjectsLocked()
	if s.indexed {
		s.gate.live.index(s, old, s.subjects)
	}
	s.set.Store(set)
	return nil
}

// subjectsLocked lists, sorted, what a registry change may name that
// concerns the session: its certificate, its client id (the name of its
// connection thing, which policy variables read), its things, its effective
// policies and its things' groups. The caller holds s.mu.
func (s *session) subjectsLocked() []subject {
	out := make([]subject, 0, 2+len(s.things)+len(s.policies)+len(s.groups))
	out = append(out, subject{subjectCertificate, s.certID}, subject{subjectThing, s.clientID})
	for t := range s.things {
		if t != s.clientID {
			out = append(out, subject{subjectThing, t})
		}
	}
	for p := range s.policies {
		out = append(out, subject{subjectPolicy, p})
	}
	for g := range s.groups {
		out = append(out, subject{subjectGroup, g})
	}
	slices.SortFunc(out, compareSubjects)
	return out
}

// reload re-reads the registry after a change and disconnects the session if
// it may no longer be connected.
func (s *session) reload(ctx context.Context) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	if err := s.load(ctx, nil); err != nil {
		s.disconnect("certificate " + s.certID + ": " + reason(err))
		return
	}
	if !s.Authorize(Connect, s.clientID) {
		s.disconnect("certificate " + s.certID + ": its policies no longer allow iot:Connect" + s.gate.foreignARNs(ctx, s.certID))
	}
}

func reason(err error) string {
	if r, ok := err.(*RefusedError); ok {
		return r.Reason
	}
	return err.Error()
}

func (s *session) disconnect(why string) {
	s.set.Store(nil) // deny everything from now on, even before the socket closes
	if why == KickTakenOver {
		s.kick(why) // the adapter reports it as a takeover
		return
	}
	if s.kicked.Swap(true) {
		return
	}
	if s.gate.Logger != nil {
		s.gate.Logger.Info("disconnecting a device", "client_id", s.clientID, "certificate_id", s.certID, "reason", why)
	}
	s.kick(why)
}

// Authorize decides an action against the compiled policies. Event topics
// are subscribe-only, and reserved topics cannot be retained (AWS).
func (s *session) Authorize(action Action, topic string) bool {
	set := s.set.Load()
	if set == nil {
		return false
	}
	// One concatenation per decision: this runs on every publish and delivery.
	prefix := s.arnPrefix
	switch action {
	case Connect:
		return set.Decide("iot:Connect", prefix+"client/"+topic, nil).Allowed()
	case Publish:
		if isSubscribeOnly(topic) {
			return false
		}
		return set.Decide("iot:Publish", prefix+"topic/"+topic, nil).Allowed()
	case RetainPublish:
		if strings.HasPrefix(topic, "$") {
			return false
		}
		arn := prefix + "topic/" + topic
		return set.Decide("iot:Publish", arn, nil).Allowed() && set.Decide("iot:RetainPublish", arn, nil).Allowed()
	case Subscribe:
		return set.Decide("iot:Subscribe", prefix+"topicfilter/"+topic, nil).Allowed()
	case Receive:
		return set.Decide("iot:Receive", prefix+"topic/"+topic, nil).Allowed()
	}
	return false
}

// isSubscribeOnly reports whether topic is reserved for server-published
// events: AWS's $aws/events/ and iotcore's own $iotcore/.
func isSubscribeOnly(topic string) bool {
	return strings.HasPrefix(topic, "$aws/events/") || strings.HasPrefix(topic, "$iotcore/")
}

// CertificateID is the id of the session's certificate.
func (s *session) CertificateID() string { return s.certID }

// Close ends the session and sends the disconnected presence event.
func (s *session) Close(info DisconnectInfo) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.gate.remove(s)
	s.gate.dismiss(s)
	if s.kicked.Load() && !info.ClientInitiated {
		info.Reason = ReasonServerDisconnect
	}
	if info.Reason == "" {
		info.Reason = ReasonConnectionLost
	}
	s.gate.presenceDisconnected(s, info)
}

// presence publishes $aws/events/presence/connected/<clientId> (reference 8.5).
func (g *Gatekeeper) presence(p presenceIdentity, event, ip string) {
	if host, _, ok := strings.Cut(ip, ":"); ok && !strings.Contains(ip, "[") {
		ip = host
	}
	g.publishPresence(p, event, map[string]any{"ipAddress": ip})
}

func (g *Gatekeeper) presenceDisconnected(s *session, info DisconnectInfo) {
	g.publishPresence(s.presenceOf(), "disconnected", disconnectedFields(info))
}

func disconnectedFields(info DisconnectInfo) map[string]any {
	return map[string]any{"clientInitiatedDisconnect": info.ClientInitiated, "disconnectReason": info.Reason}
}

// presenceOf is what the presence events say of a session.
func (s *session) presenceOf() presenceIdentity {
	return presenceIdentity{clientID: s.clientID, sessionID: s.id, principal: s.certID}
}

// presenceIdentity is what a presence event names: the client id, the
// session and the principal (a certificate id, or an IAM access key id).
type presenceIdentity struct {
	clientID, sessionID, principal string
}

func (g *Gatekeeper) publishPresence(p presenceIdentity, event string, extra map[string]any) {
	if g.Presence != nil {
		reason, _ := extra["disconnectReason"].(string)
		g.Presence(p.clientID, event == "connected", g.now(), reason)
	}
	if g.Events == nil || strings.ContainsAny(p.clientID, "#+") { // AWS sends none for such client ids
		return
	}
	topic := "$aws/events/presence/" + event + "/" + p.clientID
	if !g.Events.Subscribed(topic) {
		return
	}
	body := map[string]any{
		"clientId":            p.clientID,
		"timestamp":           g.now().UnixMilli(),
		"eventType":           event,
		"sessionIdentifier":   p.sessionID,
		"principalIdentifier": p.principal,
		"versionNumber":       0,
	}
	for k, v := range extra {
		body[k] = v
	}
	payload, _ := json.Marshal(body)
	if err := g.Events.Publish(topic, payload, false, 0); err != nil && g.Logger != nil {
		g.Logger.Warn("publish a presence event", "client_id", p.clientID, "error", err)
	}
}
