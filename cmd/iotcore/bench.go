package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/bench"
	"github.com/iotcore/iotcore/internal/pki"
)

func newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test an MQTT over mutual TLS endpoint: onboarding, connects, messages, idle connections",
		Long: `Load-test any MQTT over mutual TLS endpoint (iotcore, AWS IoT, mosquitto...) with a
lean MQTT 3.1.1 client. Five scenarios:

  jitp     new devices onboarding just in time: connect (dropped: provisioned),
           reconnect, one QoS 1 publish; provisioned devices/s and latency
  fleet    new devices onboarding by fleet provisioning: claim connect,
           CreateKeysAndCertificate (or --csr), RegisterThing, reconnect with
           the new certificate, one QoS 1 publish; devices/s and latency
  connect  steady-state mTLS connects/s with one registered certificate
  pubsub   P publishers to S subscribers at QoS 0 and/or 1: delivered msgs/s,
           latency, loss
  idle     N connections held open, for the server's memory per connection

Every scenario prints a summary; --json prints one JSON object per scenario
run instead, on one line each (fields: "go doc ./internal/bench"). A progress
bar is drawn when standard output is a terminal. SIGINT ends a run early and
still prints its summary.

--setup prepares an iotcore (or AWS IoT) account through the API first, with
the aws CLI's credentials and settings (AWS_SHARED_CREDENTIALS_FILE, --region,
--endpoint-url): a CA registered for JITP with a template like that of AWS's
JITP walkthrough, devices provisioned from it and, for pubsub, an identity
allowed to subscribe to everything; for fleet, a claim certificate and a
fleet-provisioning template. Without --setup, give the identities: --ca-cert/--ca-key for
jitp (a CA registered with auto-registration and a JITP template),
--claim-cert/--claim-key/--template for fleet, --cert/--key
for the others (a registered certificate; the client IDs, {cn}-{role}{i} by
default, and topics must be allowed by its policy).

Exit status: 0 when the run worked at least once, 1 when nothing succeeded or
the run could not start, 2 for bad usage.`,
		Example: `  export AWS_SHARED_CREDENTIALS_FILE=iotcore-data/credentials
  api="--setup --endpoint-url http://127.0.0.1:9080 --region us-east-1"
  iotcore bench jitp    --endpoint 127.0.0.1:8883 --cafile iotcore-data/ca.pem $api --devices 2000
  iotcore bench fleet   --endpoint 127.0.0.1:8883 --cafile iotcore-data/ca.pem $api --devices 1000 --csr
  iotcore bench connect --endpoint 127.0.0.1:8883 --cafile iotcore-data/ca.pem $api --duration 10s
  iotcore bench pubsub  --endpoint 127.0.0.1:8883 --cafile iotcore-data/ca.pem $api --qos 0,1 --publishers 4 --subscribers 1
  iotcore bench idle    --endpoint 127.0.0.1:8883 --cafile iotcore-data/ca.pem $api --connections 5000 --hold 0

  # against any broker, with a certificate its ACL lets publish under its CN
  iotcore bench pubsub --endpoint localhost:8883 --cafile ca.pem --cert dev.crt --key dev.key --json`,
	}
	cmd.AddCommand(newBenchJITPCommand(), newBenchFleetCommand(), newBenchConnectCommand(), newBenchPubSubCommand(), newBenchIdleCommand())
	return cmd
}

// benchFlags are the flags every scenario shares.
type benchFlags struct {
	endpoint, caFile, serverName string
	timeout, keepalive           time.Duration
	json                         bool
	setup                        bool
	prefix                       string
	api                          apiFlags
	// The path devices take: bench.Endpoint's KeyExchange, LeafOnly and
	// PacketPerRecord.
	keyExchange               string
	leafOnly, packetPerRecord bool
}

func (f *benchFlags) declare(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.endpoint, "endpoint", "", "MQTT endpoint host:port, such as 127.0.0.1:8883 (required)")
	fs.StringVar(&f.caFile, "cafile", "", "CA file to trust the server with: iotcore's <data-dir>/ca.pem (default: the system's roots)")
	fs.StringVar(&f.serverName, "server-name", "", "name the server's certificate must carry (default: the endpoint's host)")
	fs.DurationVar(&f.timeout, "mqtt-timeout", bench.DefaultTimeout, "bound on each wait for the server: TCP, TLS, CONNACK, SUBACK, PUBACK")
	fs.DurationVar(&f.keepalive, "keepalive", bench.DefaultKeepAlive, "MQTT keep-alive the clients ask for")
	fs.BoolVar(&f.json, "json", false, "print the summary as one JSON object")
	fs.BoolVar(&f.setup, "setup", false, "first create a CA, register it for JITP and provision the identities through the API (see --endpoint-url)")
	fs.StringVar(&f.keyExchange, "key-exchange", string(bench.KeyExchangeGo), fmt.Sprintf("the TLS key exchange groups the clients offer, one of %v: "+
		"Go's default offers X25519MLKEM768 first, which most device TLS stacks do not; x25519 is what OpenSSL 3.0, mbedTLS and the AWS CRT offer first", bench.KeyExchanges))
	fs.BoolVar(&f.leafOnly, "leaf-only", false, "present the device certificate alone, not followed by its CA (default: the chain, as the seeds' deviceCertAndCACert.crt)")
	fs.BoolVar(&f.packetPerRecord, "packet-per-record", false, "write each MQTT packet as a TLS record of its own, as device SDKs do (default: gather packets into records of up to 16 KiB)")
	fs.StringVar(&f.prefix, "prefix", "", "start of the names of the things and policies the run creates (default: bench- and 8 random hex digits)")
	f.api.declare(cmd)
	for _, name := range []string{"endpoint-url", "region", "profile", "timeout"} {
		fs.Lookup(name).Usage = "with --setup: " + fs.Lookup(name).Usage
	}
	_ = cmd.MarkFlagRequired("endpoint")
}

// endpointFor reads the trust flags.
func (f *benchFlags) endpointFor() (bench.Endpoint, error) {
	ep := bench.Endpoint{Addr: f.endpoint, ServerName: f.serverName, Timeout: f.timeout, KeepAlive: f.keepalive,
		LeafOnly: f.leafOnly, PacketPerRecord: f.packetPerRecord}
	kx, err := bench.ParseKeyExchange(f.keyExchange)
	if err != nil {
		return ep, usageError{fmt.Errorf("--key-exchange: %w", err)}
	}
	ep.KeyExchange = kx
	if f.caFile != "" {
		pemText, err := os.ReadFile(f.caFile)
		if err != nil {
			return ep, usageError{fmt.Errorf("--cafile: %w", err)}
		}
		ep.RootCAs = x509.NewCertPool()
		if !ep.RootCAs.AppendCertsFromPEM(pemText) {
			return ep, usageError{fmt.Errorf("--cafile %s: no PEM certificate in it", f.caFile)}
		}
	}
	if f.prefix == "" {
		f.prefix = bench.NewPrefix()
	}
	return ep, nil
}

// fixture runs --setup.
func (f *benchFlags) fixture(cmd *cobra.Command) (*bench.Fixture, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), f.api.timeout)
	defer cancel()
	client, err := f.api.client(ctx)
	if err != nil {
		return nil, err
	}
	fx, err := bench.Setup(ctx, client, f.prefix)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "iotcore bench: registered the CA %s for JITP; things and policies are named %s-*\n", fx.CAID, fx.Prefix)
	return fx, nil
}

// progress is where the bar goes: standard output if it is a terminal.
func (f *benchFlags) progress(cmd *cobra.Command) io.Writer {
	if w := cmd.OutOrStdout(); isTerminal(w) {
		return w
	}
	return nil
}

// print writes a summary, as JSON or text.
func (f *benchFlags) print(cmd *cobra.Command, s bench.Summary) error {
	if f.json {
		return bench.WriteJSON(cmd.OutOrStdout(), s)
	}
	return s.WriteText(cmd.OutOrStdout())
}

// finish prints a run's summary and fails (exit 1, after the summary) when
// no operation of the run succeeded and it was not interrupted.
func (f *benchFlags) finish(cmd *cobra.Command, s bench.Summary, succeeded int64, interrupted bool, what string) error {
	if err := f.print(cmd, s); err != nil {
		return err
	}
	if succeeded == 0 && !interrupted {
		return fmt.Errorf("no %s succeeded: see the failures above", what)
	}
	return nil
}

// identity reads --cert and --key.
func identity(certFile, keyFile, certFlag, keyFlag string) (tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return tls.Certificate{}, usageError{fmt.Errorf("give --%s and --%s, or --setup", certFlag, keyFlag)}
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return c, usageError{fmt.Errorf("--%s %s, --%s %s: %w", certFlag, certFile, keyFlag, keyFile, err)}
	}
	return c, nil
}

// noIdentityWithSetup refuses identities given alongside --setup, which
// makes its own.
func noIdentityWithSetup(cmd *cobra.Command, setup bool, names ...string) error {
	if !setup {
		return nil
	}
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return usageError{fmt.Errorf("--setup makes the identities: drop --%s", n)}
		}
	}
	return nil
}

func newBenchJITPCommand() *cobra.Command {
	var (
		f                 benchFlags
		cfg               bench.JITPConfig
		caCert, caKey, kt string
	)
	cmd := &cobra.Command{
		Use:   "jitp",
		Short: "Onboard new devices just in time: provisioned devices/s and latency to the first accepted publish",
		Long: `Onboard --devices new devices, --concurrency at a time, each with a fresh
certificate signed by the CA (--ca-cert/--ca-key, or the one --setup registers)
and named by its CN, <prefix>-<n>. Each device connects (the server provisions
it and drops the connection, as AWS IoT does), reconnects, and publishes once
at QoS 1 to --topic; the run reports provisioned devices per second and the
latency from the first TCP connect to the PUBACK. The keys and certificates are
made before the clock starts (ECDSA P-256 keys are cheap, but signing is the
client's work, not the server's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := noIdentityWithSetup(cmd, f.setup, "ca-cert", "ca-key"); err != nil {
				return err
			}
			var err error
			if cfg.Endpoint, err = f.endpointFor(); err != nil {
				return err
			}
			if cfg.KeyType, err = pki.ParseKeyType(kt); err != nil {
				return usageError{err}
			}
			cfg.Prefix = f.prefix
			if f.setup {
				fx, err := f.fixture(cmd)
				if err != nil {
					return err
				}
				cfg.CA = fx.CA
			} else if cfg.CA, cfg.Chain, err = loadCA(caCert, caKey); err != nil {
				return err
			}
			cfg.Progress = f.progress(cmd)
			s, err := bench.RunJITP(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return f.finish(cmd, s, s.Provisioned, s.Interrupted, "device")
		},
	}
	f.declare(cmd)
	fs := cmd.Flags()
	fs.StringVar(&caCert, "ca-cert", "", "the CA's certificate, optionally followed by its own chain (without --setup)")
	fs.StringVar(&caKey, "ca-key", "", "the CA's private key (without --setup)")
	fs.IntVar(&cfg.Devices, "devices", 1000, "how many devices onboard")
	fs.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "how many onboard at once")
	fs.StringVar(&cfg.Country, "country", "", "the devices' subject C (the template of AWS's JITP walkthrough reads it)")
	fs.StringVar(&kt, "key-type", string(pki.DefaultKeyType), fmt.Sprintf("the devices' key type: one of %v", pki.KeyTypes()))
	fs.StringVar(&cfg.Topic, "topic", bench.DefaultJITPTopic, "where each device publishes; {cn} is its CN")
	return cmd
}

func newBenchFleetCommand() *cobra.Command {
	var (
		f                   benchFlags
		cfg                 bench.FleetConfig
		claimCert, claimKey string
		kt                  string
		params              []string
	)
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Onboard new devices by fleet provisioning: provisioned devices/s and latency to the first accepted publish",
		Long: `Onboard --devices new devices, --concurrency at a time, by fleet provisioning
by claim, with AWS IoT's MQTT API in JSON. Each device connects with the claim
certificate (client ID --client-id: {prefix}, {i} its number), subscribes to the
accepted and rejected topics of its two requests, asks for a certificate with
CreateKeysAndCertificate (with --csr: CreateCertificateFromCsr, sending a CSR
for a --key-type key of its own), registers it with RegisterThing on --template
and the --param parameters, disconnects, connects with its new certificate
(client ID: the thing's name) and publishes once at QoS 1 to --topic ({thing}:
the thing's name). The run reports provisioned devices per second, the latency
from the claim's TCP connect to the PUBACK and that of each step, and failures
by step and cause ("register: rejected: <errorCode>", "create: no answer in
time"...). With --csr the keys and CSRs are made before the clock starts.

--setup creates, through the API, a claim certificate, a claim policy allowing
the fleet topics of one template, and that template: FLEET_PROVISIONING,
named <prefix>, making the thing <prefix>-<SerialNumber>, activating the
certificate and attaching a policy that allows connecting as the thing and
publishing under <thing>/. Without --setup, give --claim-cert, --claim-key and
--template.

AWS throttles connects, publishes and fleet provisioning, and iotcore keeps
AWS's limits by default: to measure the server rather than its limits, run it
with them lifted (iotcore serve --mqtt-connect-rate -1 --mqtt-publish-rate -1
--fleet-create-keys-rate -1 --fleet-create-from-csr-rate -1
--fleet-register-thing-rate -1).
A throttled device is counted as a failure, by step and cause.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := noIdentityWithSetup(cmd, f.setup, "claim-cert", "claim-key", "template"); err != nil {
				return err
			}
			var err error
			if cfg.Endpoint, err = f.endpointFor(); err != nil {
				return err
			}
			if cfg.KeyType, err = pki.ParseKeyType(kt); err != nil {
				return usageError{err}
			}
			if len(params) > 0 {
				cfg.Parameters = map[string]string{}
				for _, p := range params {
					k, v, ok := strings.Cut(p, "=")
					if !ok || k == "" {
						return usageError{fmt.Errorf("--param %q: want name=value", p)}
					}
					cfg.Parameters[k] = v
				}
			}
			cfg.Prefix = f.prefix
			if f.setup {
				ctx, cancel := context.WithTimeout(cmd.Context(), f.api.timeout)
				defer cancel()
				client, err := f.api.client(ctx)
				if err != nil {
					return err
				}
				fx, err := bench.SetupFleet(ctx, client, f.prefix)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "iotcore bench: made the claim certificate %s and the fleet-provisioning template %s; things and policies are named %s-*\n",
					fx.ClaimID, fx.Template, fx.Prefix)
				cfg.Claim, cfg.Template = fx.Claim, fx.Template
				if cfg.Parameters == nil {
					cfg.Parameters = fx.Parameters
				}
			} else {
				if cfg.Template == "" {
					return usageError{errors.New("give --template, or --setup")}
				}
				if cfg.Claim, err = identity(claimCert, claimKey, "claim-cert", "claim-key"); err != nil {
					return err
				}
			}
			cfg.Progress = f.progress(cmd)
			s, err := bench.RunFleet(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return f.finish(cmd, s, s.Provisioned, s.Interrupted, "device")
		},
	}
	f.declare(cmd)
	fs := cmd.Flags()
	fs.Lookup("setup").Usage = "first create a claim certificate, its policy and a fleet-provisioning template through the API (see --endpoint-url)"
	fs.StringVar(&claimCert, "claim-cert", "", "the claim certificate (without --setup)")
	fs.StringVar(&claimKey, "claim-key", "", "the claim certificate's private key (without --setup)")
	fs.StringVar(&cfg.Template, "template", "", "the fleet-provisioning template's name (without --setup)")
	fs.IntVar(&cfg.Devices, "devices", 1000, "how many devices onboard")
	fs.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "how many onboard at once")
	fs.BoolVar(&cfg.CSR, "csr", false, "send a CSR for a key made here (CreateCertificateFromCsr) instead of CreateKeysAndCertificate")
	fs.StringVar(&kt, "key-type", string(pki.KeyECP256), fmt.Sprintf("with --csr, the devices' key type: one of %v", pki.KeyTypes()))
	fs.StringArrayVar(&params, "param", nil, "a RegisterThing parameter, name=value; {prefix} and {i} are replaced (repeatable; default SerialNumber={i} with --setup, SerialNumber={prefix}-{i} without)")
	fs.StringVar(&cfg.ClientID, "client-id", bench.DefaultFleetClientID, "the claim connections' client ID: {prefix}, {i}")
	fs.StringVar(&cfg.Topic, "topic", bench.DefaultFleetTopic, "where each provisioned device publishes: {thing}, {i}")
	return cmd
}

// loadCA reads a CA certificate (and the chain after it) and its key.
func loadCA(certFile, keyFile string) (*pki.Authority, []*x509.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return nil, nil, usageError{errors.New("give --ca-cert and --ca-key, or --setup")}
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, usageError{err}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, usageError{err}
	}
	chain, err := pki.ParseCertificateChainPEM(string(certPEM))
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--ca-cert %s: %w", certFile, err)}
	}
	key, err := pki.ParsePrivateKeyPEM(string(keyPEM))
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--ca-key %s: %w", keyFile, err)}
	}
	ca, err := pki.NewAuthority(chain[0], key)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--ca-cert %s, --ca-key %s: %w", certFile, keyFile, err)}
	}
	return ca, chain, nil
}

// deviceIdentity is --cert/--key, or with --setup a device provisioned
// from the fixture's CA.
func (f *benchFlags) deviceIdentity(cmd *cobra.Command, ep bench.Endpoint, certFile, keyFile string) (tls.Certificate, error) {
	if !f.setup {
		return identity(certFile, keyFile, "cert", "key")
	}
	fx, err := f.fixture(cmd)
	if err != nil {
		return tls.Certificate{}, err
	}
	return fx.Device(cmd.Context(), ep, "device")
}

func newBenchConnectCommand() *cobra.Command {
	var (
		f                 benchFlags
		cfg               bench.ConnectConfig
		certFile, keyFile string
	)
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Steady-state mTLS connects/s with one registered certificate",
		Long: `Connect, with a full TLS handshake and the client certificate, wait for the
CONNACK, disconnect, and again, from --concurrency connections at once, for
--duration or --count connects. Every connect is a new client ID (--client-id:
{cn} is the certificate's CN, {role} is c, {i} the connect's number), as a fleet
whose devices come and go: AWS IoT, and iotcore, allow one CONNECT per second
per client ID.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := noIdentityWithSetup(cmd, f.setup, "cert", "key"); err != nil {
				return err
			}
			var err error
			if cfg.Endpoint, err = f.endpointFor(); err != nil {
				return err
			}
			if cfg.Certificate, err = f.deviceIdentity(cmd, cfg.Endpoint, certFile, keyFile); err != nil {
				return err
			}
			cfg.Progress = f.progress(cmd)
			s, err := bench.RunConnect(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return f.finish(cmd, s, s.Connects, s.Interrupted, "connect")
		},
	}
	f.declare(cmd)
	fs := cmd.Flags()
	fs.StringVar(&certFile, "cert", "", "the client certificate, optionally followed by its chain (without --setup)")
	fs.StringVar(&keyFile, "key", "", "the client's private key (without --setup)")
	fs.StringVar(&cfg.ClientID, "client-id", bench.DefaultClientID, "client ID template: {cn}, {role}, {i}")
	fs.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "how many connect at once")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run (unless --count)")
	fs.IntVar(&cfg.Count, "count", 0, "how many connects to try (0: run for --duration)")
	return cmd
}

func newBenchPubSubCommand() *cobra.Command {
	var (
		f                       benchFlags
		cfg                     bench.PubSubConfig
		certFile, keyFile       string
		subCertFile, subKeyFile string
		qosList                 string
	)
	cmd := &cobra.Command{
		Use:   "pubsub",
		Short: "Messages from P publishers to S subscribers: delivered msgs/s, latency, loss",
		Long: `Connect --publishers publishers and --subscribers subscribers, subscribe each
subscriber to --filter, then publish --size byte messages to each publisher's
--topic for --duration (or --messages each), as fast as the server takes them
or at --rate per publisher, and count what every subscriber receives. Each
payload carries its send time, publisher and sequence number: the summary
gives delivered messages per second, latency percentiles, duplicates and loss
(at QoS 1 there must be none). --qos 0,1 runs the scenario once per QoS.

Topics follow what policies can scope: publisher i publishes to --topic with
{cn} its certificate's CN (its thing name) and {i} its index; the filter
defaults to the topic when all publishers share it (one identity), and else to
the topic with each level holding a placeholder replaced by + (+/bench). With
--setup each publisher is its own device and the subscribers share an identity
whose policy allows every topic; without, --cert/--key is every publisher's
identity and --sub-cert/--sub-key (default: the same) every subscriber's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := noIdentityWithSetup(cmd, f.setup, "cert", "key", "sub-cert", "sub-key"); err != nil {
				return err
			}
			qoss, err := parseQoSList(qosList)
			if err != nil {
				return usageError{err}
			}
			if cfg.Endpoint, err = f.endpointFor(); err != nil {
				return err
			}
			if f.setup {
				fx, err := f.fixture(cmd)
				if err != nil {
					return err
				}
				for i := range cfg.Publishers {
					dev, err := fx.Device(cmd.Context(), cfg.Endpoint, "pub-"+strconv.Itoa(i))
					if err != nil {
						return err
					}
					cfg.PublisherCerts = append(cfg.PublisherCerts, dev)
				}
				if cfg.SubscriberCert, err = fx.Admin(cmd.Context(), cfg.Endpoint); err != nil {
					return err
				}
			} else {
				pub, err := identity(certFile, keyFile, "cert", "key")
				if err != nil {
					return err
				}
				cfg.PublisherCerts, cfg.SubscriberCert = []tls.Certificate{pub}, pub
				if subCertFile != "" || subKeyFile != "" {
					if cfg.SubscriberCert, err = identity(subCertFile, subKeyFile, "sub-cert", "sub-key"); err != nil {
						return err
					}
				}
			}
			cfg.Progress = f.progress(cmd)
			for _, qos := range qoss {
				if cmd.Context().Err() != nil {
					break
				}
				run := cfg
				run.QoS = qos
				s, err := bench.RunPubSub(cmd.Context(), run)
				if err != nil {
					return err
				}
				if err := f.finish(cmd, s, s.Delivered, s.Interrupted, "delivery"); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f.declare(cmd)
	fs := cmd.Flags()
	fs.StringVar(&certFile, "cert", "", "the publishers' certificate, optionally followed by its chain (without --setup)")
	fs.StringVar(&keyFile, "key", "", "the publishers' private key (without --setup)")
	fs.StringVar(&subCertFile, "sub-cert", "", "the subscribers' certificate (default: --cert)")
	fs.StringVar(&subKeyFile, "sub-key", "", "the subscribers' private key (default: --key)")
	fs.StringVar(&cfg.SubscriberAddr, "sub-endpoint", "", "where the subscribers connect, host:port: another node of a cluster, to measure messages crossing nodes (default: --endpoint)")
	fs.StringVar(&cfg.ClientID, "client-id", bench.DefaultClientID, "client ID template: {cn}, {role} (p or s), {i}")
	fs.IntVar(&cfg.Publishers, "publishers", 4, "how many publishers")
	fs.IntVar(&cfg.Subscribers, "subscribers", 1, "how many subscribers")
	fs.StringVar(&qosList, "qos", "0,1", "QoS of publishing and subscribing: 0, 1, or 0,1 for one run each")
	fs.IntVar(&cfg.PayloadSize, "size", 64, fmt.Sprintf("payload size in bytes (at least %d)", bench.MinPayload))
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to publish (unless --messages)")
	fs.IntVar(&cfg.Messages, "messages", 0, "messages per publisher (0: publish for --duration)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "messages per second per publisher (0: as fast as the server takes them)")
	fs.IntVar(&cfg.Window, "window", bench.DefaultWindow, "QoS 1 messages a publisher leaves unacknowledged")
	fs.StringVar(&cfg.Topic, "topic", bench.DefaultPubSubTopic, "publisher i's topic: {cn}, {i}")
	fs.StringVar(&cfg.Filter, "filter", "", "the subscribers' filter (default: from --topic)")
	fs.DurationVar(&cfg.Drain, "drain", bench.DefaultDrain, "how long subscribers may go without a message, once publishing is over, before the rest counts as lost")
	return cmd
}

// parseQoSList reads --qos: "0", "1", "0,1".
func parseQoSList(s string) ([]byte, error) {
	var qoss []byte
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "0":
			qoss = append(qoss, 0)
		case "1":
			qoss = append(qoss, 1)
		default:
			return nil, fmt.Errorf("--qos %q: want 0, 1 or 0,1 (AWS IoT supports QoS 0 and 1)", s)
		}
	}
	return qoss, nil
}

func newBenchIdleCommand() *cobra.Command {
	var (
		f                 benchFlags
		cfg               bench.IdleConfig
		certFile, keyFile string
	)
	cmd := &cobra.Command{
		Use:   "idle",
		Short: "Hold N idle connections, for the server's memory per connection",
		Long: `Establish --connections connections, --concurrency at a time, and hold them for
--hold (0: until interrupted) with nothing but keep-alive pings; then check
that each still answers a PINGREQ. Each connection pings every half
--keepalive from its CONNACK on, however long the others take to connect.
Once they are established a line "iotcore bench: idle: N connections
established..." goes to standard error: the moment to measure the server's
memory.

Connections lost are counted by cause: "connect: tcp connect: too many open
files" is this process's file-descriptor limit (ulimit -n); "hold: closed by
the server" a connection the server ended ("...: keep-alive" when the client
had been silent past its keep-alive, a client too loaded to ping).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := noIdentityWithSetup(cmd, f.setup, "cert", "key"); err != nil {
				return err
			}
			var err error
			if cfg.Endpoint, err = f.endpointFor(); err != nil {
				return err
			}
			if cfg.Certificate, err = f.deviceIdentity(cmd, cfg.Endpoint, certFile, keyFile); err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			cfg.Ready = func(n int64) {
				hold := "until interrupted"
				if cfg.Hold > 0 {
					hold = "for " + cfg.Hold.String()
				}
				fmt.Fprintf(stderr, "iotcore bench: idle: %d connections established of %d; holding them %s\n", n, cfg.Connections, hold)
			}
			cfg.Progress = f.progress(cmd)
			s, err := bench.RunIdle(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return f.finish(cmd, s, s.Established, s.Interrupted, "connection")
		},
	}
	f.declare(cmd)
	fs := cmd.Flags()
	fs.StringVar(&certFile, "cert", "", "the client certificate, optionally followed by its chain (without --setup)")
	fs.StringVar(&keyFile, "key", "", "the client's private key (without --setup)")
	fs.StringVar(&cfg.ClientID, "client-id", bench.DefaultClientID, "client ID template: {cn}, {role} (i), {i}")
	fs.IntVar(&cfg.Connections, "connections", 1000, "how many connections to hold")
	fs.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "how many connect at once")
	fs.DurationVar(&cfg.Hold, "hold", 10*time.Second, "how long to hold them (0: until interrupted)")
	return cmd
}
