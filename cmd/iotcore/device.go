package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/devicesim"
)

func newDeviceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "device",
		Short: "Simulate a device",
	}
	cmd.AddCommand(newDeviceRunCommand(), newDeviceProvisionCommand())
	return cmd
}

// deviceExitCodes documents the exit codes of device run.
const deviceExitCodes = `Exit codes:
  0  done: connected, subscribed, published and received as asked
  1  bad usage, or files that cannot be read
  2  no TLS connection: the address does not resolve or nothing listens,
     the server's certificate is not trusted, or TLS was refused
  3  every connection was dropped before CONNACK: the certificate is not
     accepted (not registered, not ACTIVE, CA without auto-registration...)
  4  refused: CONNACK, SUBACK or PUBACK not authorized (the policies)
  5  the server disconnected the device (revoked, taken over...)
  6  the expected messages did not arrive within --wait`

func newDeviceRunCommand() *cobra.Command {
	var (
		cfg                   devicesim.Config
		caFile, certFile, key string
		message               string
		qos                   int
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Connect as a device (retrying through the JITP first-connection drop), subscribe, publish",
		Long: `Connect to an MQTT over mutual TLS endpoint (iotcore or AWS IoT) as a device, with
MQTT 5, and say at each step what happened and why. When the server drops the
connection before CONNACK, as AWS IoT and iotcore do to a device's first
just-in-time provisioning connection, retry with backoff (--retry-delay,
doubling up to 30s, --attempts times).

Once connected: subscribe to each --subscribe filter, publish --count messages
to --publish, and, when subscribed, wait until --count messages have arrived
(--count 0: publish every --interval and receive until interrupted). Received
messages are printed on standard output as "topic payload" lines; the steps go
to standard error.

` + deviceExitCodes,
		Example: `  # the device of AWS's JITP walkthrough, through its first (provisioning) connection
  iotcore device run --endpoint localhost:8883 --cafile iotcore-data/ca.pem \
    --cert device-chain.crt --key device.key --client-id DemoThing \
    --subscribe 'DemoThing/#' --publish DemoThing/test --message Hello --count 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if qos < 0 || qos > 1 {
				return fmt.Errorf("--qos %d: AWS IoT supports QoS 0 and 1", qos)
			}
			cfg.QoS = byte(qos)
			cfg.Message = []byte(message)
			var err error
			if cfg.RootCAs, cfg.Certificate, err = devicesim.LoadCredentials(caFile, certFile, key); err != nil {
				return err
			}
			cfg.Log = cmd.ErrOrStderr()
			cfg.Out = cmd.OutOrStdout()
			return devicesim.Run(cmd.Context(), cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Addr, "endpoint", "", "MQTT endpoint host:port, such as localhost:8883 (required)")
	fs.StringVar(&caFile, "cafile", "", "CA file to trust the server with: iotcore's <data-dir>/ca.pem (default: the system's roots, which hold AWS IoT's)")
	fs.StringVar(&certFile, "cert", "", "device certificate, optionally followed by its CA (the -chain.crt file) (required)")
	fs.StringVar(&key, "key", "", "device private key (required)")
	fs.StringVar(&cfg.ClientID, "client-id", "", "MQTT client id (default: the certificate's CN)")
	fs.StringVar(&cfg.APIEndpointURL, "endpoint-url", os.Getenv("AWS_ENDPOINT_URL"), "the API's URL, named in the aws commands the simulator suggests (default: $AWS_ENDPOINT_URL)")
	fs.StringVar(&cfg.ServerName, "server-name", "", "name the server certificate must carry (default: the endpoint's host)")
	fs.StringArrayVar(&cfg.NextProtos, "alpn", nil, "ALPN protocol to offer (repeatable); AWS IoT on port 443 wants x-amzn-mqtt-ca")
	fs.StringArrayVar(&cfg.Subscribe, "subscribe", nil, "topic filter to subscribe to (repeatable)")
	fs.StringVar(&cfg.Publish, "publish", "", "topic to publish to")
	fs.StringVar(&message, "message", "hello from iotcore device", "payload of each message")
	fs.IntVar(&cfg.Count, "count", 1, "messages to publish, and to wait for when subscribed (0: until interrupted)")
	fs.DurationVar(&cfg.Interval, "interval", time.Second, "pause between messages")
	fs.IntVar(&qos, "qos", 1, "QoS of publications and subscriptions: 0 or 1")
	fs.DurationVar(&cfg.Wait, "wait", devicesim.DefaultWait, "how long to wait for the expected messages after publishing")
	fs.IntVar(&cfg.Attempts, "attempts", devicesim.DefaultAttempts, "connection attempts (-1: until interrupted)")
	fs.DurationVar(&cfg.RetryDelay, "retry-delay", devicesim.DefaultRetryDelay, "pause after the first failed attempt, doubled after each further one")
	fs.DurationVar(&cfg.KeepAlive, "keepalive", devicesim.DefaultKeepAlive, "MQTT keep-alive")
	for _, f := range []string{"endpoint", "cert", "key"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
