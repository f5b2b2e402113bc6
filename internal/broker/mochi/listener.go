package mochi

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver"
)

// ALPN protocol names a device may offer on the MQTT port [AWS 8.1]:
// x-amzn-mqtt-ca is AWS's for MQTT with an X.509 client certificate on 443;
// mqtt is AWS's for custom authorizers, accepted here with certificates.
const (
	alpnAWS  = "x-amzn-mqtt-ca"
	alpnMQTT = "mqtt"
)

// newTLSConfig is the TLS configuration of the MQTT listener. It requires a
// client certificate but does not verify it: the gate decides trust from the
// registry (which CA, in which state, JITP/JITR), not a CA pool. Go still
// checks that the client holds the certificate's key.
func newTLSConfig(cert tls.Certificate, getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	cfg := &tls.Config{
		Certificates:   []tls.Certificate{cert},
		GetCertificate: getCertificate,
		MinVersion:     tls.VersionTLS12,
		ClientAuth:     tls.RequireAnyClientCert,
		NextProtos:     []string{alpnAWS, alpnMQTT},
	}
	// Go refuses a handshake whose ALPN offer shares nothing with
	// NextProtos; AWS's port 8883 ignores ALPN. Answer such offers without
	// ALPN instead.
	noALPN := cfg.Clone()
	noALPN.NextProtos = nil
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		for _, p := range hello.SupportedProtos {
			if slices.Contains(cfg.NextProtos, p) {
				return nil, nil
			}
		}
		if len(hello.SupportedProtos) == 0 {
			return nil, nil
		}
		return noALPN, nil
	}
	return cfg
}

// acceptMQTT accepts MQTT-over-TLS connections until the listener closes.
func (b *Broker) acceptMQTT(ln net.Listener) {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, or the like: back off as net/http
			// does. (The listener has counted and logged it.)
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(delay):
				continue
			case <-b.ctx.Done():
				return
			}
		}
		delay = 0
		raw := c.(*rawConn)
		if !b.goTracked(func() { b.serveTLS(raw) }) {
			_ = raw.Close()
			return
		}
	}
}

// serveTLS does the TLS handshake, bounded by HandshakeTimeout (a client
// that opens TCP and says nothing is cut), then serves MQTT.
func (b *Broker) serveTLS(raw *rawConn) {
	var under net.Conn = raw
	if b.engine != nil {
		// The iotcore engine waits for the socket, not in crypto/tls, when
		// TLS reads one record at a time (mqttserver.RecordConn).
		under = mqttserver.NewRecordConn(raw)
	}
	tc := tls.Server(under, b.tls)
	_ = raw.SetDeadline(time.Now().Add(b.cfg.HandshakeTimeout))
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.HandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		b.stats.handshakeFailures.Add(1)
		b.log.Debug("mqtt tls handshake failed", "remote", raw.RemoteAddr().String(), "error", err)
		_ = raw.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	// MQTT is served on a new goroutine: the handshake grew this one's
	// stack to tens of kilobytes, which an idle connection would keep.
	c := newConn(b, tc, raw, tc.ConnectionState(), listenerMQTT)
	if !b.goTracked(func() { b.serveMQTT(c) }) {
		_ = raw.Close()
	}
}
