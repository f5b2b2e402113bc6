package devicesim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotcore/iotcore/internal/pki"
)

// device is one run of the simulator.
type device struct {
	cfg    Config
	certID string
	drops  int // connections dropped before CONNACK so far

	lastDrop string // the explanation of the second drop, repeated in the final error

	// ended receives why the live connection ended, once; closing is set
	// when the device itself disconnects.
	ended   chan *Error
	closing atomic.Bool
	// lastAction is what the device did last, to explain a DISCONNECT.
	lastAction atomic.Value // string

	mu       sync.Mutex
	received int
	gotMsg   chan struct{} // signalled (without blocking) on each message
}

// Run connects the device, retrying as Config says, then subscribes,
// publishes and receives, and disconnects. Each step is written to
// cfg.Log. A failure is an [*Error] unless the configuration is wrong.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	d := &device{cfg: cfg, certID: pki.CertificateID(cfg.Certificate.Leaf.Raw), gotMsg: make(chan struct{}, 1)}
	d.describe()
	c, err := d.connectRetrying(ctx, d.onPublish)
	if err != nil {
		return err
	}
	return d.session(ctx, c)
}

// connectRetrying connects, retrying with backoff as Config says (through
// the JITP first-connection drop, say), and returns the connected client.
func (d *device) connectRetrying(ctx context.Context, received func(paho.PublishReceived) (bool, error)) (*paho.Client, error) {
	cfg := &d.cfg
	delay := cfg.RetryDelay
	for attempt := 1; ; attempt++ {
		of := ""
		if cfg.Attempts > 0 {
			of = fmt.Sprintf(" of %d", cfg.Attempts)
		}
		d.logf("connecting to %s as client id %q (attempt %d%s)", cfg.Addr, cfg.ClientID, attempt, of)
		d.ended = make(chan *Error, 1)
		c, ack, aerr := d.connect(ctx, received)
		if aerr == nil {
			d.logf("connected: CONNACK %s, keep-alive %ds", reason(ack.ReasonCode), d.keepAlive(ack))
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("device: interrupted: %w", ctx.Err())
		}
		if !aerr.retry {
			return nil, fail(aerr.kind, aerr.err, aerr.msg)
		}
		if cfg.Attempts > 0 && attempt >= cfg.Attempts {
			return nil, fail(aerr.kind, aerr.err, fmt.Sprintf("gave up after %d attempts: %s", attempt, aerr.msg))
		}
		logged := aerr.msg
		if aerr.brief != "" {
			logged = aerr.brief
		}
		d.logf("%s; retrying in %s", logged, delay)
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("device: interrupted: %w", err)
		}
		delay = min(2*delay, cfg.MaxRetryDelay)
	}
}

// describe says who the device is, and warns about what will fail anyway.
func (d *device) describe() {
	leaf := d.cfg.Certificate.Leaf
	cas := len(d.cfg.Certificate.Certificate) - 1
	d.logf("device certificate %s (id %s), issued by %s, valid until %s; presented with %d CA certificate(s) after it",
		leaf.Subject, d.certID, leaf.Issuer, leaf.NotAfter.UTC().Format(time.RFC3339), cas)
	if err := pki.CheckValidAt(leaf, d.cfg.Now()); err != nil {
		d.logf("warning: %v: the server will drop every connection", err)
	}
}

func (d *device) keepAlive(ack *paho.Connack) uint16 {
	if ack.Properties != nil && ack.Properties.ServerKeepAlive != nil {
		return *ack.Properties.ServerKeepAlive
	}
	return uint16(min(d.cfg.KeepAlive.Seconds(), 65535))
}

func (d *device) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintln(d.cfg.Log, line)
}

// onPublish receives a message (on paho's goroutine).
func (d *device) onPublish(p paho.PublishReceived) (bool, error) {
	d.mu.Lock()
	d.received++
	n := d.received
	fmt.Fprintf(d.cfg.Out, "%s %s\n", p.Packet.Topic, p.Packet.Payload)
	d.mu.Unlock()
	d.logf("received message %d on %s (%d bytes)", n, p.Packet.Topic, len(p.Packet.Payload))
	select {
	case d.gotMsg <- struct{}{}:
	default:
	}
	return true, nil
}

// onServerDisconnect explains a DISCONNECT from the server [MQTT-3.14].
func (d *device) onServerDisconnect(p *paho.Disconnect) {
	msg := "the server disconnected the device: DISCONNECT " + reason(p.ReasonCode)
	if p.Properties != nil {
		msg += reasonString(p.Properties.ReasonString)
	}
	switch p.ReasonCode {
	case codeNotAuthorized:
		last, _ := d.lastAction.Load().(string)
		if strings.HasPrefix(last, "publish ") {
			topic := strings.TrimPrefix(last, "publish ")
			msg += fmt.Sprintf(": the policies do not allow iot:Publish on topic/%s (a denied QoS 0 publish ends the connection), or the certificate was deactivated or revoked meanwhile", topic)
		} else {
			msg += ": the certificate was deactivated or revoked, or its policies changed and no longer allow this connection"
		}
	case codeSessionTakenOver:
		msg += fmt.Sprintf(": another connection with client id %q took over (AWS IoT allows one connection per client id)", d.cfg.ClientID)
	case 0x8D:
		msg += ": the server heard nothing within the keep-alive"
	}
	d.end(fail(Disconnected, nil, msg))
}

// onClientError reports a connection lost without DISCONNECT.
func (d *device) onClientError(err error) {
	d.end(fail(Disconnected, err, fmt.Sprintf("the connection was lost: %v", err)))
}

func (d *device) end(e *Error) {
	if d.closing.Load() {
		return
	}
	select {
	case d.ended <- e:
	default:
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
