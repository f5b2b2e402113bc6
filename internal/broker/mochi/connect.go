package mochi

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
)

var (
	errNotDevice       = errors.New("connection did not come through an iotcore listener")
	errKicked          = errors.New("connection kicked while the gate was admitting it")
	errReserved        = errors.New("client id is reserved by the mqtt engine")
	errClientIDTooLong = errors.New("client id too long")
	errConnectRate     = errors.New("client id connecting too often")
	errMaxConnections  = errors.New("too many connections")
	errWillQoS2        = errors.New("will qos 2 not supported")
	errAuthMethod      = errors.New("enhanced authentication not supported")
)

// checkConnect runs when a CONNECT has been read, before mochi validates
// it. A will at QoS 2 is refused, as QoS 2 is everywhere [AWS 8.2]. MQTT 5
// devices were going to be told so by mochi, with CONNACK 0x9B QoS not
// supported [MQTT-3.2.2-12]. MQTT 3.1.1 has no return code for it, so the
// connection is closed without a CONNACK [MQTT-3.2.2-6] (3.1.1): mochi
// would send 3 server unavailable, which tells the device to retry later,
// for ever.
func (h *hook) checkConnect(cl *mqtt.Client, pk *packets.Packet) error {
	if pk.Connect.WillFlag && pk.Connect.WillQos > 1 && pk.ProtocolVersion < 5 {
		h.b.stats.refused.Add(1)
		h.b.deviceLog("mqtt connection refused: will qos 2 not supported",
			"client", truncate(pk.Connect.ClientIdentifier, DefaultMaxClientIDLength), "remote", cl.Net.Remote)
		return fmt.Errorf("%w: %w", errWillQoS2, packets.ErrRejectPacket)
	}
	return nil
}

// OnConnect asks the gate to admit the connection. mochi calls it after
// reading and validating the CONNECT and before any CONNACK; an error makes
// mochi close the connection without one.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	c := connOf(cl)
	if c == nil {
		return errNotDevice
	}
	c.device.Store(&device{client: cl, id: cl.ID, version: pk.ProtocolVersion})

	// mochi's inline client (server-originated Publish) is registered under
	// this id: a device taking it over would take over the engine's own client.
	if cl.ID == mqtt.InlineClientId {
		h.b.stats.refused.Add(1)
		_ = h.b.server.SendConnack(cl, packets.ErrClientIdentifierNotValid, false, nil)
		return errReserved
	}
	// No enhanced authentication: devices authenticate with their
	// certificate (AWS IoT Core likewise). A device that asks for it is
	// refused with 0x8C bad authentication method [MQTT-4.12.0-1].
	if pk.ProtocolVersion == 5 && pk.Properties.AuthenticationMethod != "" {
		h.b.stats.refused.Add(1)
		h.b.deviceLog("mqtt connection refused: enhanced authentication not supported", "client", cl.ID,
			"remote", c.RemoteAddr().String(), "method", truncate(pk.Properties.AuthenticationMethod, 64))
		_ = h.b.server.SendConnack(cl, packets.ErrBadAuthenticationMethod, false, nil)
		return errAuthMethod
	}
	if err := h.checkConnectLimits(c, cl); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(h.b.ctx, h.b.cfg.ConnectTimeout)
	defer cancel()
	req := broker.ConnectRequest{
		Chain:           c.tls.PeerCertificates,
		IAMAccessKeyID:  c.iamAccessKeyID,
		ServerName:      c.tls.ServerName,
		ClientID:        cl.ID,
		ProtocolVersion: pk.ProtocolVersion,
		CleanSession:    pk.Connect.Clean,
		HasWill:         pk.Connect.WillFlag,
		RemoteAddr:      c.RemoteAddr().String(),
	}
	s, err := h.b.gateConnect(ctx, req, c.kick)
	if err != nil {
		return h.refuse(c, cl, err)
	}
	if !c.setSession(s) {
		s.Close(broker.DisconnectInfo{Reason: broker.ReasonServerDisconnect})
		h.b.stats.refused.Add(1)
		return errKicked
	}
	h.b.connects.take(cl.ID, h.b.cfg.Now())

	// mochi resends queued QoS 1 messages to a resumed session with the topic
	// alias they were first sent with, which the new connection never saw:
	// never alias outbound topics.
	cl.Properties.Props.TopicAliasMaximum = 0

	if k := h.b.cfg.keepalive(pk.Connect.Keepalive); k != pk.Connect.Keepalive {
		cl.State.Keepalive = k
		cl.State.ServerKeepalive = true // MQTT 5: tell the client in the CONNACK [MQTT-3.2.2-21]
	}

	h.takeOver(ctx, c, cl.ID)
	h.fetchSession(ctx, c, cl, pk)
	return nil
}

// gateConnect asks the gate on a goroutine of its own. The gate's work
// (certificate lookups, policy compilation, provisioning) needs a deep
// stack, and a goroutine's stack does not shrink back while it is idle: on
// the connection's goroutine, which lives as long as the connection, it
// would cost tens of kilobytes per idle device.
func (b *Broker) gateConnect(ctx context.Context, req broker.ConnectRequest, kick func(string)) (broker.Session, error) {
	type result struct {
		s   broker.Session
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := b.cfg.Gate.Connect(ctx, req, kick)
		done <- result{s, err}
	}()
	r := <-done
	return r.s, r.err
}

// refuse answers a connection the gate did not admit.
func (h *hook) refuse(c *conn, cl *mqtt.Client, err error) error {
	if code, answer := h.b.refusal(c, cl.ID, err); answer {
		_ = h.b.server.SendConnack(cl, code, false, nil)
	}
	return err
}

// refusal is refuse's decision, for either engine: the CONNACK code
// (MQTT 5; connack maps it for MQTT 3.1.1), or none (answer false) when
// the connection is dropped without one; counted and logged.
func (b *Broker) refusal(c *conn, id string, err error) (code packets.Code, answer bool) {
	remote := c.RemoteAddr().String()
	var refused *broker.RefusedError
	switch {
	case errors.As(err, &refused) && refused.How == broker.NotAuthorized:
		b.stats.refused.Add(1)
		b.deviceLog("mqtt connection refused: not authorized", "client", id, "remote", remote, "reason", refused.Reason)
		return packets.ErrNotAuthorized, true // MQTT 5 0x87; MQTT 3.1.1 5
	case errors.As(err, &refused):
		b.stats.refused.Add(1)
		b.deviceLog("mqtt connection dropped", "client", id, "remote", remote, "reason", refused.Reason)
		return packets.Code{}, false
	}
	// The gate failed (its store is down, or we are shutting down): the
	// device may retry, so say the server is unavailable (3.1.1: 3).
	if b.ctx.Err() == nil {
		b.stats.gateErrors.Add(1)
		b.log.Error("mqtt connection failed: gate error", "client", id, "remote", remote, "error", err)
	}
	return packets.ErrServerUnavailable, true
}

// checkConnectLimits refuses, before the gate is asked, a CONNECT that
// breaks AWS's limits [AWS 8.4] [AWS 9], with a CONNACK the device can act
// on (MQTT 3.1.1 return codes in parentheses, mapped by connack):
//
//   - a client id longer than MaxClientIDLength: 0x85 client identifier not
//     valid (2 identifier rejected);
//   - a client id that connected more than ConnectBurst times at once, or
//     more often than ConnectRate per second since: 0x9F connection rate
//     exceeded (3 server unavailable), so that the device retries later;
//   - a connection beyond MaxConnections: 0x97 quota exceeded (3 server
//     unavailable).
//
// A connection that passes holds one of the MaxConnections slots until it
// ends.
func (h *hook) checkConnectLimits(c *conn, cl *mqtt.Client) error {
	code, err := h.b.connectLimits(c, cl.ID)
	if err != nil {
		_ = h.b.server.SendConnack(cl, code, false, nil)
	}
	return err
}

// connectLimits is checkConnectLimits' decision, for either engine: the
// CONNACK code and the error of a refusal, counted and logged.
func (b *Broker) connectLimits(c *conn, id string) (packets.Code, error) {
	cfg := &b.cfg
	remote := c.RemoteAddr().String()
	if cfg.MaxClientIDLength > 0 && len(id) > cfg.MaxClientIDLength {
		b.stats.clientIDRejected.Add(1)
		b.deviceLog("mqtt connection refused: client id too long", "client", id[:cfg.MaxClientIDLength]+"...",
			"length", len(id), "limit", cfg.MaxClientIDLength, "remote", remote)
		return packets.ErrClientIdentifierNotValid, errClientIDTooLong
	}
	if !b.connects.allowed(id, cfg.Now()) {
		b.stats.connectThrottled.Add(1)
		b.deviceLog("mqtt connection refused: client id connecting too often", "client", id,
			"rate_per_s", cfg.ConnectRate, "burst", cfg.ConnectBurst, "remote", remote)
		return packets.ErrConnectionRateExceeded, errConnectRate
	}
	if cfg.MaxConnections > 0 {
		if b.slots.Add(1) > int64(cfg.MaxConnections) {
			b.slots.Add(-1)
			b.stats.connectionsLimited.Add(1)
			b.deviceLog("mqtt connection refused: too many connections", "client", id,
				"limit", cfg.MaxConnections, "remote", remote)
			return packets.ErrQuotaExceeded, errMaxConnections
		}
		c.slot.Store(true)
	}
	return packets.CodeSuccess, nil
}

// takeOver disconnects the live connection that holds client id, if any,
// and waits until mochi has finished with it, so that mochi's own takeover
// (which follows OnConnect) finds it gone. AWS keeps the newer connection
// [AWS 8.2]; MQTT 5 devices are told 0x8E session taken over.
//
// Waiting makes the handover sequential: mochi v2.7.9 ends a clean session
// by deleting the client id from its registry, and when that races with a
// takeover it can delete the new connection's entry.
func (h *hook) takeOver(ctx context.Context, c *conn, id string) {
	old, ok := h.b.server.Clients.Get(id)
	if !ok {
		return
	}
	oc := connOf(old)
	if oc == nil || oc == c {
		return
	}
	// A connection that has ended (DISCONNECT, a read error) may still be
	// in mochi's teardown, which deletes a clean session's client id from
	// the registry: after our Clients.Add, that would delete this one's.
	if !old.Closed() {
		oc.takenOver.Store(true)
		oc.disconnect(packets.ErrSessionTakenOver)
	}
	select {
	case <-oc.done:
	case <-ctx.Done():
	}
}

// OnConnectAuthenticate admits what OnConnect admitted: mochi calls it only
// when OnConnect returned nil. Some hook must provide it, or mochi refuses
// every connection.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	return connOf(cl) != nil
}

// OnDisconnect closes the session when the connection ends, for any reason.
// With a takeover, this is the old connection's own session: the new
// connection has its own.
func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	if c := connOf(cl); c != nil {
		c.end(err)
	}
}

// connack adjusts a CONNACK before mochi encodes it, in place.
func (h *hook) connack(cl *mqtt.Client, pk *packets.Packet) {
	v5 := cl.Properties.ProtocolVersion == 5
	switch {
	case pk.ReasonCode >= packets.ErrUnspecifiedError.Code:
		if !v5 {
			pk.ReasonCode = connackCode3(pk.ReasonCode)
		}
		return
	case pk.ReasonCode != packets.CodeSuccess.Code:
		return // an MQTT 3.1.1 refusal mochi has mapped already
	case v5:
		// What mochi does not advertise [MQTT-3.2.2.3]: our packet size
		// limit (so clients do not send what we would refuse), and no
		// subscription identifiers (AWS does not support them).
		pk.Properties.MaximumPacketSize = uint32(h.b.cfg.MaxPacketSize)
		pk.Properties.SubIDAvailable, pk.Properties.SubIDAvailableFlag = 0, true
	}
	c := connOf(cl)
	if c == nil {
		return
	}
	// Admitted from now: a kick is answered with DISCONNECT (MQTT 5). Set
	// before the CONNACK is written, so that a device that has read its
	// CONNACK is never kicked without one.
	c.admit()
	if c.moved.Load() != nil {
		pk.SessionPresent = true // resumed from another node (session.go)
	}
	if pk.SessionPresent {
		h.filterInflight(c, cl)
	}
}

// connackCode3 maps an MQTT 5 CONNACK reason code to an MQTT 3.1.1 return
// code [MQTT-3.2.2.3]. mochi maps only a few, and writes the others (0x87
// not authorized among them) as they are, which 3.1.1 clients cannot read.
func connackCode3(code byte) byte {
	switch code {
	case packets.ErrUnsupportedProtocolVersion.Code:
		return packets.Err3UnsupportedProtocolVersion.Code
	case packets.ErrUnspecifiedError.Code, // mochi: an empty client id without clean session [MQTT-3.1.3-8]
		packets.ErrClientIdentifierNotValid.Code:
		return packets.Err3ClientIdentifierNotValid.Code
	case packets.ErrNotAuthorized.Code, packets.ErrBadUsernameOrPassword.Code:
		return packets.Err3NotAuthorized.Code
	}
	return packets.Err3ServerUnavailable.Code
}

// filterInflight decides iot:Receive again, with the new session, for the
// QoS 1 messages a resumed persistent session inherited (queued while it
// was offline, or unacknowledged by the previous connection), before mochi
// resends them: nothing reaches a device that may not receive it.
func (h *hook) filterInflight(c *conn, cl *mqtt.Client) {
	for _, pk := range cl.State.Inflight.GetAll(false) {
		if pk.FixedHeader.Type != packets.Publish {
			continue
		}
		// (An empty topic name would stand for a topic alias the new
		// connection never saw; OnConnect turns outbound aliases off.)
		if pk.TopicName != "" && c.mayReceive(pk.TopicName) {
			continue
		}
		if cl.State.Inflight.Delete(pk.PacketID) {
			atomic.AddInt64(&h.b.server.Info.Inflight, -1)
			h.b.stats.receiveDenied.Add(1)
		}
	}
}
