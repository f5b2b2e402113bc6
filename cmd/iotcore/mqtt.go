package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/mqttcli"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/server"
)

func newMQTTCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mqtt",
		Short: "Watch and send MQTT messages as the administrator (MQTT over WebSocket, SigV4)",
		Long: `Subscribe and publish as iotcore's administrator: MQTT over WebSocket at the
API's /mqtt (by default http://127.0.0.1:9080, serve's default API address)
or at the listener of 'iotcore serve --mqtt-ws-addr', authenticated as AWS
IoT Core authenticates IAM identities, with a SigV4-presigned URL (service
iotdevicegateway). The admin credentials may subscribe to, receive and publish
on every topic, $aws/events/# included, and need no certificate or policy.

Credentials: the AWS environment when it names some (AWS_ACCESS_KEY_ID,
AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE, --profile), else the credentials
file of the data directory (--data-dir). The server is trusted with
<data-dir>/ca.pem unless --cafile says otherwise.`,
	}
	cmd.AddCommand(newMQTTSubCommand(), newMQTTPubCommand())
	return cmd
}

// mqttFlags are how the mqtt commands reach the WebSocket listener.
type mqttFlags struct {
	endpoint, dataDir, caFile, region, profile, clientID string
	timeout                                              time.Duration
}

func (f *mqttFlags) declare(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.endpoint, "endpoint", "", "the API's URL (http(s)://host:port), or host:port of the MQTT over WebSocket listener (iotcore serve --mqtt-ws-addr); "+
		"default IOTCORE_MQTT_ENDPOINT, else http://"+server.DefaultAPIAddr)
	fs.StringVar(&f.dataDir, "data-dir", server.DefaultDataDir, "the server's data directory: its credentials file and ca.pem")
	fs.StringVar(&f.caFile, "cafile", "", "CA file to trust the server with (default: <data-dir>/ca.pem)")
	fs.StringVar(&f.region, "region", "us-east-1", "region to sign for (iotcore accepts any)")
	fs.StringVar(&f.profile, "profile", "", "shared credentials profile (default: AWS_PROFILE, or default)")
	fs.StringVar(&f.clientID, "client-id", "", "MQTT client id (default: iotcore-cli-<random>)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up connecting, subscribing or publishing after this long")
}

// dial connects as the flags say.
func (f *mqttFlags) dial(ctx context.Context) (*mqttcli.Client, error) {
	endpoint := f.endpoint
	if endpoint == "" {
		endpoint = os.Getenv("IOTCORE_MQTT_ENDPOINT")
	}
	if endpoint == "" {
		endpoint = "http://" + server.DefaultAPIAddr
	}
	caFile := f.caFile
	if caFile == "" {
		caFile = filepath.Join(f.dataDir, server.RootCAFile)
	}
	pool, err := loadCAFile(caFile)
	if err != nil {
		return nil, err
	}
	creds, err := f.credentials(ctx)
	if err != nil {
		return nil, err
	}
	return mqttcli.Dial(ctx, mqttcli.Config{Endpoint: endpoint, RootCAs: pool, Credentials: creds, Region: f.region,
		ClientID: f.clientID, Timeout: f.timeout})
}

// credentials are the AWS environment's when it names some, else those of
// the data directory's credentials file.
func (f *mqttFlags) credentials(ctx context.Context) (aws.CredentialsProvider, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(f.region)}
	if f.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(f.profile))
	}
	fromEnv := f.profile != ""
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"} {
		fromEnv = fromEnv || os.Getenv(v) != ""
	}
	if !fromEnv {
		file := filepath.Join(f.dataDir, server.CredentialsFile)
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("no credentials: %w (pass --data-dir, or set AWS_SHARED_CREDENTIALS_FILE)", err)
		}
		opts = append(opts, config.WithSharedCredentialsFiles([]string{file}), config.WithSharedConfigFiles([]string{}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS credentials: %w", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("load AWS credentials: %w", err)
	}
	return cfg.Credentials, nil
}

func loadCAFile(name string) (*x509.CertPool, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("server CA: %w (pass --cafile or --data-dir)", err)
	}
	cas, err := pki.ParseCertificateChainPEM(string(b))
	if err != nil {
		return nil, fmt.Errorf("server CA file %s: %w", name, err)
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	return pool, nil
}

func parseQoS(q int) (byte, error) {
	if q != 0 && q != 1 {
		return 0, fmt.Errorf("--qos %d: AWS IoT Core supports QoS 0 and 1", q)
	}
	return byte(q), nil
}

func newMQTTSubCommand() *cobra.Command {
	var (
		f      mqttFlags
		format string
		count  int
		qos    int
	)
	cmd := &cobra.Command{
		Use:   "sub FILTER...",
		Short: "Print the messages published on topic filters",
		Long: `Subscribe to the topic filters and print each message: its time (UTC), its
topic and its payload. --format pretty (the default) indents JSON payloads on
the lines below; raw prints the payload as received on the same line; json
prints one JSON object per line (time, topic, qos, retain, payload, with
"encoding":"base64" for a payload that is not UTF-8). --count exits after that
many messages; otherwise it runs until interrupted.`,
		Example: `  iotcore mqtt sub --endpoint localhost:8443 'DemoThing/#'
  iotcore mqtt sub --endpoint localhost:8443 --format json --count 1 '$aws/events/presence/#'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(mqttcli.Formats, format) {
				return fmt.Errorf("--format %q: want one of %s", format, strings.Join(mqttcli.Formats, ", "))
			}
			q, err := parseQoS(qos)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			c, err := f.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			return subscribe(ctx, c, args, q, format, count, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.declare(cmd)
	fs := cmd.Flags()
	fs.StringVar(&format, "format", mqttcli.FormatPretty, "pretty, raw or json")
	fs.IntVar(&count, "count", 0, "exit after this many messages (0: run until interrupted)")
	fs.IntVar(&qos, "qos", 1, "QoS of the subscriptions: 0 or 1")
	return cmd
}

// subscribe prints messages until count of them, an interrupt or a lost
// connection.
func subscribe(ctx context.Context, c *mqttcli.Client, filters []string, qos byte, format string, count int, out, errOut io.Writer) error {
	done := make(chan struct{})
	seen := 0
	handle := func(m mqttcli.Message) { // paho calls it on one goroutine, in order
		if count > 0 && seen >= count {
			return
		}
		s, _ := mqttcli.Format(m, format)
		_, _ = io.WriteString(out, s)
		seen++
		if count > 0 && seen == count {
			close(done)
		}
	}
	if err := c.Subscribe(ctx, filters, qos, handle); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "iotcore: subscribed to %s\n", strings.Join(filters, " "))
	select {
	case <-done:
		return nil
	case err := <-c.Lost():
		return fmt.Errorf("mqtt connection lost: %w", err)
	case <-ctx.Done():
		return nil
	}
}

func newMQTTPubCommand() *cobra.Command {
	var (
		f      mqttFlags
		qos    int
		retain bool
	)
	cmd := &cobra.Command{
		Use:   "pub TOPIC MESSAGE",
		Short: "Publish one message",
		Long: `Publish MESSAGE on TOPIC once, at --qos 0 or 1 (1 waits for the server's
PUBACK), retained with --retain. MESSAGE "-" reads the payload from standard input.`,
		Example: `  iotcore mqtt pub --endpoint localhost:8443 DemoThing/cmd '{"led":"on"}'`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := parseQoS(qos)
			if err != nil {
				return err
			}
			payload := []byte(args[1])
			if args[1] == "-" {
				if payload, err = io.ReadAll(cmd.InOrStdin()); err != nil {
					return fmt.Errorf("read the message: %w", err)
				}
			}
			c, err := f.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Publish(cmd.Context(), args[0], payload, q, retain)
		},
	}
	f.declare(cmd)
	fs := cmd.Flags()
	fs.IntVar(&qos, "qos", 1, "QoS: 0 or 1")
	fs.BoolVar(&retain, "retain", false, "retain the message")
	return cmd
}
