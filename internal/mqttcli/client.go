package mqttcli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"
)

// Config says where and as whom to connect. Zero values take the
// documented defaults.
type Config struct {
	// Endpoint is where MQTT over WebSocket is served: host:port of the
	// WebSocket listener (iotcore serve --mqtt-ws-addr), over TLS; or the
	// API's URL (http://host:port or https://host:port), whose /mqtt
	// serves SigV4-signed WebSocket too. Required.
	Endpoint string
	// RootCAs is the pool the server certificate must chain to; nil means
	// the system's roots.
	RootCAs *x509.CertPool
	// Credentials sign the WebSocket upgrade. Required.
	Credentials aws.CredentialsProvider
	// Region is the signing region; "" means us-east-1 (iotcore accepts
	// any region).
	Region string
	// ClientID is the MQTT client id; "" means iotcore-cli-<random hex>.
	ClientID string
	// Timeout bounds connecting, and each subscribe and publish; 0 means
	// 30 seconds.
	Timeout time.Duration
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// Message is one message received.
type Message struct {
	Topic    string
	Payload  []byte
	QoS      byte
	Retained bool
	Received time.Time
}

// Client is a connected MQTT client.
type Client struct {
	c       paho.Client
	timeout time.Duration
	lost    chan error
}

// Dial connects. The connection is not re-established once lost: Lost
// reports it.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("mqtt connect: no endpoint")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("mqtt connect: no credentials")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClientID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.ClientID = "iotcore-cli-" + hex.EncodeToString(b[:])
	}
	scheme, hostPort, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(hostPort)
	tlsConfig := &tls.Config{RootCAs: cfg.RootCAs, ServerName: host, MinVersion: tls.VersionTLS12}
	cl := &Client{timeout: cfg.Timeout, lost: make(chan error, 1)}

	opts := paho.NewClientOptions().
		AddBroker(scheme + "://" + hostPort + "/mqtt").
		SetClientID(cfg.ClientID).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(cfg.Timeout).
		SetKeepAlive(30 * time.Second).
		SetOrderMatters(true).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			select {
			case cl.lost <- err:
			default:
			}
		}).
		// Presign at every connection attempt: a signature is good for
		// minutes only.
		SetCustomOpenConnectionFn(func(_ *url.URL, o paho.ClientOptions) (net.Conn, error) {
			creds, err := cfg.Credentials.Retrieve(ctx)
			if err != nil {
				return nil, fmt.Errorf("credentials: %w", err)
			}
			u, err := PresignURL(ctx, creds, hostPort, cfg.Region, cfg.Now())
			if err != nil {
				return nil, err
			}
			if scheme == "ws" {
				u = "ws://" + strings.TrimPrefix(u, "wss://")
			}
			c, err := paho.NewWebsocket(u, tlsConfig, o.ConnectTimeout, nil, nil)
			if errors.Is(err, websocket.ErrBadHandshake) {
				// paho drops the response: iotcore answers 403 to an
				// upgrade that is not signed with its admin credentials.
				err = fmt.Errorf("the server refused the WebSocket upgrade (HTTP 403: are these the server's admin credentials?): %w", err)
			}
			return c, err
		})
	cl.c = paho.NewClient(opts)
	if err := cl.wait(ctx, cl.c.Connect()); err != nil {
		return nil, fmt.Errorf("mqtt connect to %s://%s/mqtt: %w", scheme, hostPort, err)
	}
	return cl, nil
}

// parseEndpoint reads Config.Endpoint: the WebSocket scheme (wss, or ws
// for a plain-HTTP API URL) and host:port.
func parseEndpoint(endpoint string) (scheme, hostPort string, err error) {
	scheme, hostPort = "wss", endpoint
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return "", "", fmt.Errorf("mqtt connect: endpoint %q: want host:port or the API's http(s)://host:port", endpoint)
		}
		switch u.Scheme {
		case "http":
			scheme = "ws"
		case "https":
		default:
			return "", "", fmt.Errorf("mqtt connect: endpoint %q: want http:// or https://", endpoint)
		}
		hostPort = u.Host
	}
	if _, _, err := net.SplitHostPort(hostPort); err != nil {
		return "", "", fmt.Errorf("mqtt connect: endpoint %q: want host:port", endpoint)
	}
	return scheme, hostPort, nil
}

// wait waits for a paho token within the client's timeout.
func (c *Client) wait(ctx context.Context, t paho.Token) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Subscribe subscribes to filters at qos; handle is called for each message,
// one at a time, in order.
func (c *Client) Subscribe(ctx context.Context, filters []string, qos byte, handle func(Message)) error {
	m := make(map[string]byte, len(filters))
	for _, f := range filters {
		m[f] = qos
	}
	t := c.c.SubscribeMultiple(m, func(_ paho.Client, msg paho.Message) {
		handle(Message{Topic: msg.Topic(), Payload: msg.Payload(), QoS: msg.Qos(), Retained: msg.Retained(), Received: time.Now()})
	})
	if err := c.wait(ctx, t); err != nil {
		return fmt.Errorf("mqtt subscribe: %w", err)
	}
	// MQTT 3.1.1 SUBACK: 0x80 is a refusal [MQTT-3.9.3].
	if st, ok := t.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code == 0x80 {
				return fmt.Errorf("mqtt subscribe: %s refused by the server", f)
			}
		}
	}
	return nil
}

// Publish publishes once and, at QoS 1, waits for the PUBACK.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if err := c.wait(ctx, c.c.Publish(topic, qos, retain, payload)); err != nil {
		return fmt.Errorf("mqtt publish to %s: %w", topic, err)
	}
	return nil
}

// Lost delivers the error of a connection lost; nothing after Close.
func (c *Client) Lost() <-chan error { return c.lost }

// Close disconnects, waiting up to a second for in-flight work.
func (c *Client) Close() { c.c.Disconnect(1000) }
