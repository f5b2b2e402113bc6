package devicesim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Defaults for Config's zero values.
const (
	DefaultAttempts       = 5
	DefaultRetryDelay     = time.Second
	DefaultMaxRetryDelay  = 30 * time.Second
	DefaultKeepAlive      = 60 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultWait           = 30 * time.Second
)

// Config is one simulated device and what it does once connected: subscribe
// to filters, publish Count messages, and wait for Count messages when it
// subscribed.
type Config struct {
	// Addr is the MQTT over mutual TLS endpoint, host:port.
	Addr string
	// ServerName is the name the server certificate must carry; "" means
	// the host of Addr.
	ServerName string
	// RootCAs are the CAs the device trusts the server with; nil means the
	// system's, as for AWS IoT's Amazon Root CA.
	RootCAs *x509.CertPool
	// NextProtos are the ALPN protocols to offer; none by default. AWS IoT
	// serves MQTT on port 443 to clients that offer x-amzn-mqtt-ca.
	NextProtos []string
	// Certificate is the device's certificate (Leaf set, as
	// LoadCredentials makes it), the chain it presents and its key.
	Certificate tls.Certificate
	// ClientID is the MQTT client id; "" means the certificate's CN, the
	// thing name under JITP templates such as that of AWS's JITP
	// walkthrough.
	ClientID string
	// KeepAlive is the MQTT keep-alive; 0 means DefaultKeepAlive. AWS IoT
	// raises values below 30 s to 30 s.
	KeepAlive time.Duration

	// Subscribe lists topic filters to subscribe to, in order.
	Subscribe []string
	// Publish is the topic to publish to; "" publishes nothing.
	Publish string
	// Message is the payload of each message.
	Message []byte
	// QoS of publications and subscriptions: 0 or 1 (AWS IoT has no QoS 2).
	QoS byte
	// Count is how many messages to publish, and, with Subscribe, how many
	// to receive before the run ends. 0 means no limit: publish every
	// Interval and receive until ctx ends.
	Count int
	// Interval is the pause between publications; 0 means none.
	Interval time.Duration
	// Wait bounds how long, once it has published, the device waits for
	// the messages it still expects; 0 means DefaultWait.
	Wait time.Duration

	// Attempts is how many times to try to connect; 0 means
	// DefaultAttempts, negative means until ctx ends.
	Attempts int
	// RetryDelay is the pause after the first failed attempt, doubled after
	// each further one up to MaxRetryDelay; 0 means DefaultRetryDelay and
	// DefaultMaxRetryDelay.
	RetryDelay, MaxRetryDelay time.Duration
	// ConnectTimeout bounds each of the TCP connection, the TLS handshake
	// and the wait for CONNACK; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration

	// APIEndpointURL is the control-plane API's URL (iotcore's
	// --api-addr, such as http://127.0.0.1:9080), which the aws commands
	// the device's messages suggest carry as --endpoint-url; "" writes a
	// placeholder there.
	APIEndpointURL string

	// Log receives a line for each step and why; nil discards them.
	Log io.Writer
	// Out receives each message received, as a "topic payload" line; nil
	// discards them.
	Out io.Writer
	// Now is the clock, for the certificate validity check; nil means
	// time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.Addr == "" {
		return errors.New("device: no endpoint address (host:port)")
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("device: endpoint %q: %w (want host:port, such as localhost:8883)", c.Addr, err)
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	if len(c.Certificate.Certificate) == 0 || c.Certificate.Leaf == nil || c.Certificate.PrivateKey == nil {
		return errors.New("device: no certificate and key")
	}
	if c.ClientID == "" {
		c.ClientID = c.Certificate.Leaf.Subject.CommonName
		if c.ClientID == "" {
			return errors.New("device: no client id, and the certificate has no CN to use as one")
		}
	}
	if c.QoS > 1 {
		return fmt.Errorf("device: QoS %d: AWS IoT supports QoS 0 and 1", c.QoS)
	}
	if c.Count < 0 {
		return fmt.Errorf("device: count %d is negative", c.Count)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.KeepAlive, DefaultKeepAlive)
	def(&c.Wait, DefaultWait)
	def(&c.RetryDelay, DefaultRetryDelay)
	def(&c.MaxRetryDelay, DefaultMaxRetryDelay)
	def(&c.ConnectTimeout, DefaultConnectTimeout)
	if c.Attempts == 0 {
		c.Attempts = DefaultAttempts
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}
