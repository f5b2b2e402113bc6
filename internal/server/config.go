package server

import (
	"fmt"
	"log/slog"
	"net"
	"regexp"
)

// Config is everything a gateway needs. Zero values are documented per field.
type Config struct {
	// DataDir holds the database, credentials and keys; "" means ./iotcore-data.
	DataDir string
	// APIAddr is the control-plane listen address; "" means 127.0.0.1:9080.
	APIAddr string
	// AllowInsecureAPI permits a plain-HTTP API on a non-loopback address.
	AllowInsecureAPI bool
	// MQTTAddr is the MQTT over mutual TLS listen address; "" means :8883.
	MQTTAddr string
	// MQTTWebSocketAddr is the MQTT over secure WebSocket listen address
	// (path /mqtt, client certificates required); "" serves none.
	MQTTWebSocketAddr string
	// AcceptFirstConnection lets a device provisioned just in time stay
	// connected on its first connection; false drops it, as AWS does. A CA's
	// tag iotcore:jitp-first-connection (accept or drop) overrides it.
	AcceptFirstConnection bool
	// AccountID is the 12-digit AWS account iotcore impersonates; "" means 123456789012.
	AccountID string
	// Region goes into ARNs; "" means us-east-1.
	Region string
	// Hostname is the endpoint address DescribeEndpoint returns and the server
	// certificate names; "" means localhost.
	Hostname string
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults for Config's zero values.
const (
	DefaultDataDir   = "./iotcore-data"
	DefaultAPIAddr   = "127.0.0.1:9080"
	DefaultMQTTAddr  = ":8883"
	DefaultAccountID = "123456789012"
	DefaultRegion    = "us-east-1"
	DefaultHostname  = "localhost"
)

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

func (c *Config) setDefaults() error {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.DataDir, DefaultDataDir)
	def(&c.APIAddr, DefaultAPIAddr)
	def(&c.MQTTAddr, DefaultMQTTAddr)
	def(&c.AccountID, DefaultAccountID)
	def(&c.Region, DefaultRegion)
	def(&c.Hostname, DefaultHostname)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if !accountIDPattern.MatchString(c.AccountID) {
		return fmt.Errorf("account id %q must be 12 digits", c.AccountID)
	}
	if !regionPattern.MatchString(c.Region) {
		return fmt.Errorf("region %q does not look like an AWS region (e.g. us-east-1)", c.Region)
	}
	host, _, err := net.SplitHostPort(c.APIAddr)
	if err != nil {
		return fmt.Errorf("api address %q: %w", c.APIAddr, err)
	}
	if !c.AllowInsecureAPI && !isLoopback(host) {
		return fmt.Errorf("api address %q is not on loopback: the API would be served in plain HTTP; "+
			"bind it to 127.0.0.1 or pass --api-allow-insecure to accept that", c.APIAddr)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
