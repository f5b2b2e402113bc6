package mochi

import (
	"context"
	"errors"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/mqttserver"
	"github.com/iotcore/iotcore/internal/mqttserver/packet"
	"github.com/iotcore/iotcore/internal/rules"
)

// The engines a Broker can run (Config.Engine).
const (
	// EngineIotcore is iotcore's own engine (internal/mqttserver): one
	// shallow goroutine per idle connection and nothing else of its own,
	// for issue 17's 40 KiB per idle connection. The default.
	EngineIotcore = "iotcore"
	// EngineMochi is mochi-mqtt v2.7.9 with this package's hooks and
	// workarounds, which served every release before the iotcore engine.
	EngineMochi = "mochi"
	// DefaultEngine is the engine of a Config that names none.
	DefaultEngine = EngineIotcore
)

// iotcoreHooks are the Broker's decisions for the iotcore engine: the same
// as the mochi hook's (hook.go, connect.go, publish.go, subscribe.go), on
// that engine's interface. The engine does itself what this package does
// around mochi: frame checks, acknowledgement batching, flow control, QoS
// 2 refusals, takeover, resumed sessions' iot:Receive.
type iotcoreHooks struct{ b *Broker }

var _ mqttserver.Hooks = iotcoreHooks{}

func (b *Broker) newIotcoreEngine() *mqttserver.Server {
	return mqttserver.New(mqttserver.Options{
		MaxPacketSize:     b.cfg.MaxPacketSize,
		ReceiveMaximum:    receiveMaximum,
		SendWindow:        receiveMaximum,
		MaxInflight:       maximumInflight,
		OutboundQueue:     b.cfg.OutboundQueue,
		StallTimeout:      b.cfg.StallTimeout,
		TopicAliasMaximum: topicAliasMaximum,
		MaxSessionExpiry:  sessionExpiry,
		Now:               b.cfg.Now,
	}, iotcoreHooks{b})
}

// serveIotcore serves an established connection with the iotcore engine
// and returns when it has ended.
func (b *Broker) serveIotcore(c *conn) {
	defer close(c.done)
	defer c.end(nil)
	// Until the CONNECT: the engine sets its own deadlines from then on.
	_ = c.Conn.SetWriteDeadline(time.Time{})
	_ = c.Conn.SetReadDeadline(time.Now().Add(b.cfg.ConnectTimeout))
	b.engine.ServeConn(c.Conn, c)
	_ = c.raw.Close()
}

func connOfEngineClient(cl *mqttserver.Client) *conn {
	c, _ := cl.Value().(*conn)
	return c
}

// OnConnect admits a connection as the mochi hook's OnConnect does.
func (h iotcoreHooks) OnConnect(cl *mqttserver.Client, pk *packet.Connect) byte {
	b := h.b
	c := connOfEngineClient(cl)
	if c == nil {
		return mqttserver.Drop
	}
	c.client.Store(cl)
	c.device.Store(&device{id: cl.ID(), version: pk.Version})
	if code, err := b.connectLimits(c, cl.ID()); err != nil {
		return code.Code
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.ConnectTimeout)
	defer cancel()
	req := broker.ConnectRequest{
		Chain:           c.tls.PeerCertificates,
		IAMAccessKeyID:  c.iamAccessKeyID,
		ServerName:      c.tls.ServerName,
		ClientID:        cl.ID(),
		ProtocolVersion: pk.Version,
		CleanSession:    pk.Clean,
		HasWill:         pk.Will != nil,
		RemoteAddr:      c.RemoteAddr().String(),
	}
	s, err := b.cfg.Gate.Connect(ctx, req, c.kick) // on the engine's own goroutine for OnConnect
	if err != nil {
		code, answer := b.refusal(c, cl.ID(), err)
		if !answer {
			return mqttserver.Drop
		}
		return code.Code
	}
	if !c.setSession(s) {
		s.Close(broker.DisconnectInfo{Reason: broker.ReasonServerDisconnect})
		b.stats.refused.Add(1)
		return mqttserver.Drop
	}
	b.connects.take(cl.ID(), b.cfg.Now())
	if k := b.cfg.keepalive(pk.KeepAlive); k != pk.KeepAlive {
		cl.SetKeepAlive(k)
	}
	// A persistent session another node of the cluster holds, when this
	// one holds none (session.go).
	if b.cfg.Sessions != nil && !pk.Clean && !b.engine.HasSession(cl.ID()) {
		if st, ok := b.cfg.Sessions.FetchSession(ctx, cl.ID()); ok {
			cl.Import(st.toEngine())
			c.moved.Store(&st)
		}
	}
	return packet.Success
}

// OnConnectRefused counts and logs a CONNECT the engine refused itself
// (a malformed one is counted as a protocol error by the engine).
func (h iotcoreHooks) OnConnectRefused(cl *mqttserver.Client, pk *packet.Connect, why error) {
	c := connOfEngineClient(cl)
	if c == nil {
		return
	}
	if errors.Is(why, mqttserver.ErrPanic) {
		h.b.stats.panics.Add(1)
		h.b.log.Error("mqtt connect hook panicked; connection closed", "client", cl.ID(), "remote", c.RemoteAddr().String(), "panic", why)
		return
	}
	if pk == nil {
		h.b.deviceLog("mqtt connection closed: CONNECT refused", "remote", c.RemoteAddr().String(), "error", why)
		return
	}
	h.b.stats.refused.Add(1)
	h.b.deviceLog("mqtt connection refused", "client", truncate(pk.ClientID, DefaultMaxClientIDLength),
		"remote", c.RemoteAddr().String(), "reason", why)
}

// OnConnected marks the connection admitted, as connack does for mochi.
func (h iotcoreHooks) OnConnected(cl *mqttserver.Client, present bool) {
	c := connOfEngineClient(cl)
	if c == nil {
		return
	}
	c.admit()
	if c.moved.Swap(nil) != nil {
		h.b.stats.sessionsMovedIn.Add(1)
	}
}

// OnDisconnect closes the session with the reason the connection ended.
func (h iotcoreHooks) OnDisconnect(cl *mqttserver.Client, err error) {
	c := connOfEngineClient(cl)
	if c == nil {
		return
	}
	var pe *packet.Error
	switch {
	case err == nil:
		c.clientDisconnected.Store(true)
	case errors.Is(err, mqttserver.ErrTakenOver):
		c.takenOver.Store(true)
	case errors.Is(err, mqttserver.ErrKeepAlive):
		err = errKeepAliveTimeout
	case errors.Is(err, mqttserver.ErrPanic):
		h.b.stats.panics.Add(1)
		h.b.log.Error("mqtt connection panicked; connection closed", "client", cl.ID(), "remote", c.RemoteAddr().String(), "panic", err)
		err = errEnginePanic // lifecycle reason CLIENT_ERROR
	case errors.As(err, &pe): // counted by the engine
		h.b.deviceLog("mqtt connection closed: packet refused", "client", cl.ID(), "remote", c.RemoteAddr().String(), "error", err)
		err = packets.Code{Code: pe.Code, Reason: pe.Msg}
	}
	c.end(err)
}

// errKeepAliveTimeout is a net.Error timeout, which disconnectInfo reads
// as AWS's MQTT_KEEP_ALIVE_TIMEOUT.
var errKeepAliveTimeout error = keepAliveTimeout{}

type keepAliveTimeout struct{}

func (keepAliveTimeout) Error() string   { return "keep-alive timeout" }
func (keepAliveTimeout) Timeout() bool   { return true }
func (keepAliveTimeout) Temporary() bool { return false }

// OnPublish decides a device's PUBLISH as the mochi hook's OnPublish does.
func (h iotcoreHooks) OnPublish(cl *mqttserver.Client, pk *packet.Publish) (mqttserver.Verdict, byte) {
	b := h.b
	c := connOfEngineClient(cl)
	if c == nil || c.dead.Load() {
		return mqttserver.Discard, packet.UnspecifiedError
	}
	// $SYS topics are mochi's, not AWS's, and AWS may close the
	// connection on reserved topics it does not support [AWS 7.4]; the
	// mochi engine does (checkPublish), and so does this one.
	if strings.HasPrefix(pk.Topic, mqtt.SysPrefix) {
		return mqttserver.Close, packet.TopicNameInvalid
	}
	if why := b.cfg.topicLimitExceeded(pk.Topic); why != "" {
		b.stats.topicRejected.Add(1)
		b.deviceLog("mqtt publish refused: topic name "+why, "client", cl.ID(), "topic", pk.Topic, "qos", pk.QoS)
		return mqttserver.Refuse, packet.TopicNameInvalid
	}
	if !mayPublish(c, pk.Topic, pk.Retain) {
		b.stats.publishDenied.Add(1)
		b.deviceLog("mqtt publish denied", "client", cl.ID(), "topic", pk.Topic, "retain", pk.Retain, "qos", pk.QoS)
		return mqttserver.Refuse, packet.NotAuthorized
	}
	if !c.takePublish("inbound", pk.Topic) {
		b.stats.publishThrottled.Add(1)
		return mqttserver.Discard, packet.QuotaExceeded
	}
	b.stats.messagesIn.Add(1)
	if b.isRequest(pk.Topic) || rules.BasicIngest(pk.Topic) {
		return mqttserver.Accept, 0 // OnPublished serves it
	}
	return mqttserver.Route, 0
}

// OnPublished hands a device's message on, as the mochi hook's
// OnPublished does: a request to Config.Requests, anything else to the
// rules and the cluster.
func (h iotcoreHooks) OnPublished(cl *mqttserver.Client, pk *packet.Publish) {
	b := h.b
	c := connOfEngineClient(cl)
	if c == nil {
		return
	}
	if b.isRequest(pk.Topic) {
		b.serveRequest(c, cl.ID(), pk.Topic, pk.Payload)
		return
	}
	b.toRules(pk.Topic, pk.Payload, pk.QoS, cl.ID(), c.certificateID())
	b.toCluster(pk.Topic, pk.Payload, pk.QoS, pk.Retain)
}

// OnWill decides a will as a publish by the device at that moment.
func (h iotcoreHooks) OnWill(cl *mqttserver.Client, pk *packet.Publish) bool {
	c := connOfEngineClient(cl)
	return c != nil && h.b.mayPublishWill(c, pk.Topic, pk.Retain)
}

// OnSubscribe decides iot:Subscribe per filter and applies the
// subscription limits, as the mochi hook's OnSubscribe does: a refusal by
// a limit is 0x97 quota exceeded or 0x8F topic filter invalid, by policy
// 0x87 not authorized (MQTT 3.1.1: all 0x80).
func (h iotcoreHooks) OnSubscribe(cl *mqttserver.Client, pk *packet.Subscribe, codes []byte) {
	b := h.b
	c := connOfEngineClient(cl)
	cfg := &b.cfg
	tooMany := cfg.MaxFiltersPerSubscribe > 0 && len(pk.Subscriptions) > cfg.MaxFiltersPerSubscribe
	if tooMany {
		b.stats.subscribeLimited.Add(int64(len(pk.Subscriptions)))
		b.deviceLog("mqtt subscribe refused: too many filters in one SUBSCRIBE", "client", cl.ID(),
			"filters", len(pk.Subscriptions), "limit", cfg.MaxFiltersPerSubscribe)
	}
	held := cl.Subscriptions()
	added := map[string]bool{}
	for i := range pk.Subscriptions {
		if codes[i] >= packet.UnspecifiedError {
			continue // invalid: the engine refuses it (0x8F)
		}
		f := pk.Subscriptions[i].Filter
		why := ""
		if !tooMany {
			why = cfg.topicLimitExceeded(f)
		}
		switch {
		case tooMany:
			codes[i] = packet.QuotaExceeded
		case why != "":
			codes[i] = packet.TopicFilterInvalid
			b.stats.filterRejected.Add(1)
			b.deviceLog("mqtt subscribe refused: topic filter "+why, "client", cl.ID(), "filter", f)
		case c == nil || c.dead.Load() || !c.authorize(broker.Subscribe, f):
			codes[i] = packet.NotAuthorized
			b.stats.subscribeDenied.Add(1)
			b.deviceLog("mqtt subscribe denied", "client", cl.ID(), "filter", f)
		case rules.BasicIngest(f):
			// AWS: "Your devices and rules can't subscribe to Basic Ingest
			// reserved topics"; refused as a denial, whatever the policy.
			codes[i] = packet.NotAuthorized
			b.stats.subscribeDenied.Add(1)
			b.deviceLog("mqtt subscribe denied: Basic Ingest topics take no subscribers", "client", cl.ID(), "filter", f)
		case !cl.Subscribed(f) && !added[f]:
			if cfg.MaxSubscriptions > 0 && held+len(added) >= cfg.MaxSubscriptions {
				codes[i] = packet.QuotaExceeded
				b.stats.subscribeLimited.Add(1)
				b.deviceLog("mqtt subscribe refused: too many subscriptions", "client", cl.ID(),
					"filter", f, "limit", cfg.MaxSubscriptions)
				continue
			}
			added[f] = true
		}
	}
}

// MayDeliver decides iot:Receive on a delivery, as the mochi hook's
// OnACLCheck does (the engine holds publishers back itself).
func (h iotcoreHooks) MayDeliver(cl *mqttserver.Client, topic string) bool {
	b := h.b
	c := connOfEngineClient(cl)
	if c == nil || !b.replyFor(cl.ID(), topic) {
		return false
	}
	if !c.mayReceive(topic) {
		b.stats.receiveDenied.Add(1)
		return false
	}
	if !c.takePublish("outbound", topic) {
		b.stats.deliveriesThrottled.Add(1)
		return false
	}
	return true
}

// OnDropped counts a message not delivered.
func (h iotcoreHooks) OnDropped(cl *mqttserver.Client, topic string, why mqttserver.DropReason) {
	switch why {
	case mqttserver.DropQueueFull:
		h.b.stats.dropped.Add(1)
	case mqttserver.DropInflightFull:
		h.b.stats.inflightDropped.Add(1)
	default:
		h.b.stats.qosDropped.Add(1)
	}
}

// toEngine is a session moving in, as the iotcore engine imports it.
func (st SessionState) toEngine() mqttserver.SessionState {
	out := mqttserver.SessionState{Version: st.ProtocolVersion}
	for _, s := range st.Subscriptions {
		out.Subscriptions = append(out.Subscriptions, packet.Subscription{Filter: s.Filter, QoS: s.QoS,
			NoLocal: s.NoLocal, RetainAsPublished: s.RetainAsPublished, RetainHandling: s.RetainHandling})
	}
	for _, m := range st.Messages {
		msg := &mqttserver.Message{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain}
		if m.Expiry > 0 {
			msg.Expires = time.Unix(m.Expiry, 0)
		}
		p := &packet.Properties{ContentType: m.ContentType, ResponseTopic: m.ResponseTopic, CorrelationData: m.CorrelationData}
		if m.PayloadFormat != nil {
			p.PayloadFormat = *m.PayloadFormat
			p.Set(packet.PropPayloadFormat)
		}
		if m.ContentType != "" {
			p.Set(packet.PropContentType)
		}
		if m.ResponseTopic != "" {
			p.Set(packet.PropResponseTopic)
		}
		if m.CorrelationData != nil {
			p.Set(packet.PropCorrelationData)
		}
		for _, u := range m.User {
			p.User = append(p.User, packet.UserProperty{Key: u.Key, Value: u.Val})
			p.Set(packet.PropUser)
		}
		if !p.Empty() {
			msg.Props = p
		}
		out.Messages = append(out.Messages, msg)
	}
	return out
}

// sessionStateOf is a session leaving the iotcore engine, as the cluster
// carries it.
func sessionStateOf(st mqttserver.SessionState, now time.Time) SessionState {
	out := SessionState{ProtocolVersion: st.Version}
	for _, s := range st.Subscriptions {
		out.Subscriptions = append(out.Subscriptions, SessionSubscription{Filter: s.Filter, QoS: s.QoS,
			NoLocal: s.NoLocal, RetainAsPublished: s.RetainAsPublished, RetainHandling: s.RetainHandling})
	}
	for i, m := range st.Messages {
		sm := SessionMessage{PacketID: uint16(i + 1), Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain, Created: now.Unix()}
		if !m.Expires.IsZero() {
			sm.Expiry = m.Expires.Unix()
		}
		if p := m.Props; p != nil {
			if p.Has(packet.PropPayloadFormat) {
				f := p.PayloadFormat
				sm.PayloadFormat = &f
			}
			sm.ContentType, sm.ResponseTopic, sm.CorrelationData = p.ContentType, p.ResponseTopic, p.CorrelationData
			for _, u := range p.User {
				sm.User = append(sm.User, packets.UserProperty{Key: u.Key, Val: u.Value})
			}
		}
		out.Messages = append(out.Messages, sm)
	}
	return out
}
