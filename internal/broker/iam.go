package broker

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// An IAM identity on MQTT: a connection whose WebSocket upgrade was signed
// with SigV4 (service iotdevicegateway) rather than authenticated with a
// client certificate. On AWS such a connection is authorized by the IAM
// policies of the identity that signed it, with the same iot: actions and
// resources as an IoT policy; it has no certificate and no IoT policies.
// iotcore's only IAM identity is its admin access key, whose implicit IAM
// policy allows every action on every resource, so such a session allows
// everything except what no identity may do: publish to the event topics
// ($aws/events/, $iotcore/) and retain on reserved ($) topics.

// connectIAM admits the IAM identity of req if Gatekeeper.IAMAllowed does.
func (g *Gatekeeper) connectIAM(req ConnectRequest, kick func(reason string)) (Session, error) {
	if g.IAMAllowed == nil || !g.IAMAllowed(req.IAMAccessKeyID) {
		return nil, refuse(Drop, "access key %s may not connect", req.IAMAccessKeyID)
	}
	s := &iamSession{gate: g, p: presenceIdentity{clientID: req.ClientID, sessionID: uuid.NewString(), principal: req.IAMAccessKeyID},
		kick: kick, remote: req.RemoteAddr, connected: g.now(), slot: g.live.slot()}
	g.admit(s, req.CleanSession)
	g.presence(s.p, "connected", req.RemoteAddr)
	return s, nil
}

// iamSession is the session of the admin access key: it may do everything.
type iamSession struct {
	gate      *Gatekeeper
	p         presenceIdentity
	kick      func(reason string)
	remote    string
	connected time.Time
	slot      uint32 // its shard of the gate's live connections
	kicked    atomic.Bool

	mu     sync.Mutex
	closed bool
}

var _ Session = (*iamSession)(nil)

// Authorize allows every action but a publish to an event topic and a
// retained publish to a reserved topic, which no identity may do (AWS).
func (s *iamSession) Authorize(action Action, topic string) bool {
	switch action {
	case Publish:
		return !isSubscribeOnly(topic)
	case RetainPublish:
		return !strings.HasPrefix(topic, "$")
	}
	return true
}

// CertificateID is "": an IAM identity has no certificate.
func (s *iamSession) CertificateID() string { return "" }

// Close sends the disconnected presence event, once.
func (s *iamSession) Close(info DisconnectInfo) {
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return
	}
	s.gate.dismiss(s)
	if s.kicked.Load() && !info.ClientInitiated {
		info.Reason = ReasonServerDisconnect
	}
	if info.Reason == "" {
		info.Reason = ReasonConnectionLost
	}
	s.gate.publishPresence(s.p, "disconnected", disconnectedFields(info))
}
