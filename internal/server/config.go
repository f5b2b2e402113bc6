package server

import (
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"time"

	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/postgres"
	"github.com/iotcore/iotcore/internal/provision"
)

// Config is everything a gateway needs. Zero values are documented per field.
type Config struct {
	// DataDir holds the database, credentials and keys; "" means ./iotcore-data.
	DataDir string
	// APIAddr is the control-plane listen address; "" means 127.0.0.1:9080.
	APIAddr string
	// APITLS serves the API over HTTPS with the server certificate (which
	// names Hostname, localhost and 127.0.0.1, signed by the data
	// directory's ca.pem); false serves plain HTTP.
	APITLS bool
	// AllowInsecureAPI permits a plain-HTTP API on a non-loopback address.
	AllowInsecureAPI bool
	// APIReadTimeout bounds how long a client may take to send a request,
	// headers and body (the headers alone: at most 10s); its response must
	// then be written within twice that. Connections idle between requests
	// are closed after 2 minutes. 0 means DefaultAPIReadTimeout.
	APIReadTimeout time.Duration
	// MQTTAddr is the MQTT over mutual TLS listen address; "" means :8883.
	MQTTAddr string
	// MQTTWebSocketAddr is the MQTT over secure WebSocket listen address
	// (path /mqtt, client certificates required); "" serves none.
	MQTTWebSocketAddr string
	// MQTTEngine is the MQTT engine: mochi.EngineIotcore or
	// mochi.EngineMochi; "" means mochi.DefaultEngine.
	MQTTEngine string
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
	// ShutdownTimeout bounds how long Run, once its context ends, waits for
	// the API requests in flight; those still running then are cut. Zero
	// means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
	// HookURLs maps the ARN of a function (a fleet-provisioning template's
	// pre-provisioning hook) to the HTTP endpoint that runs it (package
	// functions); a template whose hook has none refuses provisioning.
	HookURLs map[string]string
	// FunctionsDir holds the functions that rules' lambda actions and
	// pre-provisioning hooks call, one subdirectory each, named after the
	// function (package functions); "" runs none.
	FunctionsDir string
	// FunctionTimeout is a function's default timeout; 0 means Lambda's 3 s.
	FunctionTimeout time.Duration
	// ClusterURL joins this node to a cluster over NATS
	// (nats://host:4222, or several separated by commas); "" runs alone.
	// A cluster's nodes share one PostgreSQL registry (DatabaseURL).
	ClusterURL string
	// DatabaseURL selects PostgreSQL for the registry
	// (postgres://user:password@host:port/database?...); "" keeps it in
	// the data directory's SQLite file.
	DatabaseURL string
	// Postgres tunes the PostgreSQL pool and transactions; zero values
	// are postgres.Options' defaults.
	Postgres postgres.Options
	// DatabaseSynchronous is how durable an acknowledged write is:
	// "full" (""), on disk before the API or a device is answered, or
	// "normal", which a power failure may undo (sqlite.Synchronous).
	DatabaseSynchronous string

	// MQTT holds the limits devices are held to, and the broker's timeouts
	// and queue. Zero values are AWS IoT Core's (documented on
	// mochi.Limits and in docs/configuration.md); a negative value turns a
	// limit off, except for the connect burst, the keep-alive range and the
	// timeouts, which must not be negative.
	MQTT mochi.Limits
	// FleetRates bound fleet provisioning's requests per second, all
	// devices together; the zero value is AWS's rates, a negative field no
	// limit (provision.FleetRates).
	FleetRates provision.FleetRates
}

// DefaultShutdownTimeout is the zero value of Config.ShutdownTimeout.
const DefaultShutdownTimeout = 10 * time.Second

// Defaults for Config's zero values.
const (
	DefaultDataDir   = "./iotcore-data"
	DefaultAPIAddr   = "127.0.0.1:9080"
	DefaultMQTTAddr  = ":8883"
	DefaultAccountID = "123456789012"
	DefaultRegion    = "us-east-1"
	DefaultHostname  = "localhost"

	DefaultAPIReadTimeout = 60 * time.Second
)

// apiReadHeaderTimeout bounds the reading of a request's headers (and the
// TLS handshake before them).
const apiReadHeaderTimeout = 10 * time.Second

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
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.APIReadTimeout == 0 {
		c.APIReadTimeout = DefaultAPIReadTimeout
	}
	if c.APIReadTimeout < 0 {
		return fmt.Errorf("api read timeout %v: must be positive", c.APIReadTimeout)
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		return err
	}
	if c.ClusterURL != "" && c.DatabaseURL == "" {
		return fmt.Errorf("a cluster (--cluster-url) needs a registry its nodes share: pass --database-url postgres://...")
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
	if !c.APITLS && !c.AllowInsecureAPI && !isLoopback(host) {
		return fmt.Errorf("api address %q is not on loopback and the API would be served in plain HTTP: "+
			"pass --api-tls to serve it over HTTPS, or --api-allow-insecure to serve plain HTTP anyway "+
			"(or bind it to 127.0.0.1)", c.APIAddr)
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
