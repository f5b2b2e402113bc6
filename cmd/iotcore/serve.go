package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/functions"
	"github.com/iotcore/iotcore/internal/postgres"
	"github.com/iotcore/iotcore/internal/server"
)

// serveFlags declares the serve flags; each is also settable as IOTCORE_<NAME>
// (dashes become underscores) and as <name> in the --config YAML file.
func serveFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.String("config", "", "YAML configuration file (keys are the flag names)")
	fs.String("data-dir", server.DefaultDataDir, "directory for the database, credentials and keys")
	fs.String("api-addr", server.DefaultAPIAddr, "control-plane API listen address")
	fs.Bool("api-tls", false, "serve the API over HTTPS with the server certificate (clients trust <data-dir>/ca.pem)")
	fs.Bool("api-allow-insecure", false, "allow a plain-HTTP API on a non-loopback address")
	fs.Duration("api-read-timeout", server.DefaultAPIReadTimeout, "longest time a client may take to send an API request, headers and body")
	fs.String("mqtt-addr", server.DefaultMQTTAddr, "MQTT over mutual TLS listen address")
	fs.String("mqtt-ws-addr", "", "MQTT over secure WebSocket listen address (path /mqtt); empty: off")
	fs.String("mqtt-engine", mochi.DefaultEngine, "MQTT engine: iotcore (our own: one goroutine and about 37 KiB per idle connection), or mochi (mochi-mqtt, as before; about 62-68 KiB); docs/benchmarks.md")
	addLimitFlags(fs)
	fs.String("cluster-url", "", "join a cluster of iotcore nodes over NATS (nats://host:4222[,nats://...]); needs --database-url; empty: run alone")
	fs.String("database-url", "", "keep the registry in PostgreSQL (postgres://user:password@host:port/database); empty: SQLite in the data directory")
	fs.Int("database-max-conns", postgres.DefaultMaxConns, "PostgreSQL: most connections in the pool")
	fs.Duration("database-statement-timeout", postgres.DefaultStatementTimeout, "PostgreSQL: longest a statement may run")
	fs.Int("database-committers", postgres.DefaultCommitters, "PostgreSQL: transactions that carry this node's updates at once, each shared by the updates that arrive together (group commit)")
	fs.String("database-synchronous", "full", "how durable an acknowledged write is: full (on disk, survives a power failure) or normal (survives a crash of iotcore, not of the machine)")
	fs.Bool("jitp-accept-first-connection", false, "let a device provisioned just in time stay connected on its first connection (AWS drops it)")
	fs.String("account-id", server.DefaultAccountID, "12-digit AWS account id used in ARNs")
	fs.String("region", server.DefaultRegion, "AWS region used in ARNs")
	fs.String("hostname", server.DefaultHostname, "endpoint host name returned by describe-endpoint and named by the server certificate")
	fs.Duration("shutdown-timeout", server.DefaultShutdownTimeout, "on SIGTERM or SIGINT, how long API requests in flight may take to finish before they are cut")
	fs.String("log-format", "text", "log format: text or json")
	fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.StringArray("hook-url", nil, "FUNCTION_ARN=URL: the HTTP endpoint that runs a function (a rule's lambda action, a pre-provisioning hook) that --functions-dir does not hold; repeatable")
	fs.String("functions-dir", "", "directory of functions that rules' lambda actions and pre-provisioning hooks run, one subdirectory per function, holding its code as deployed to Lambda (docs/functions.md); empty: none")
	fs.Duration("function-timeout", 0, "how long a function may run, unless its function.json says otherwise (0: Lambda's 3s)")
	fs.String("pprof-addr", "", "serve Go's profiler (/debug/pprof/) on this loopback address, such as 127.0.0.1:6060; empty: off")
	return fs
}

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		Long: `Run the gateway: the AWS IoT control-plane API (signed with SigV4, for the aws CLI
and SDKs) on --api-addr, over HTTPS with --api-tls (a non-loopback --api-addr
needs --api-tls, or --api-allow-insecure for plain HTTP).

The MQTT limits (--mqtt-max-..., --mqtt-...-rate) default to AWS IoT Core's;
docs/configuration.md says what a device that breaks one is told.

On first start the data directory gets the SQLite database, admin API credentials
(an AWS shared-credentials file), the root CA devices trust (ca.pem), the server
certificate and the service CA. Later starts reuse them.

Every flag can also be set in the environment as IOTCORE_<FLAG> (for example
IOTCORE_DATA_DIR) or in a YAML file given with --config; flags win over the
environment, which wins over the file. A key in the file that is no flag's name
is an error; an IOTCORE_ variable that is no flag's, a warning.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().AddFlagSet(serveFlags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		k, unknown, err := loadConfig(cmd.Flags())
		if err != nil {
			return err
		}
		logger, err := newLogger(cmd.ErrOrStderr(), k.String("log-format"), k.String("log-level"))
		if err != nil {
			return err
		}
		for _, u := range unknown {
			logger.Warn("environment variable sets no flag; ignored", "variable", u.name, "did_you_mean", u.near)
		}
		hookURLs := map[string]string{}
		for _, h := range k.Strings("hook-url") {
			arn, url, err := functions.ParseWebhook(h)
			if err != nil {
				return fmt.Errorf("--hook-url: %w", err)
			}
			hookURLs[arn] = url
		}
		cfg := server.Config{
			DataDir:               k.String("data-dir"),
			APIAddr:               k.String("api-addr"),
			APITLS:                k.Bool("api-tls"),
			AllowInsecureAPI:      k.Bool("api-allow-insecure"),
			APIReadTimeout:        k.Duration("api-read-timeout"),
			MQTTAddr:              k.String("mqtt-addr"),
			MQTTWebSocketAddr:     k.String("mqtt-ws-addr"),
			MQTTEngine:            k.String("mqtt-engine"),
			AccountID:             k.String("account-id"),
			AcceptFirstConnection: k.Bool("jitp-accept-first-connection"),
			Region:                k.String("region"),
			Hostname:              k.String("hostname"),
			Logger:                logger,
			ShutdownTimeout:       k.Duration("shutdown-timeout"),
			DatabaseSynchronous:   k.String("database-synchronous"),
			DatabaseURL:           k.String("database-url"),
			ClusterURL:            k.String("cluster-url"),
			Postgres: postgres.Options{MaxConns: k.Int("database-max-conns"),
				StatementTimeout: k.Duration("database-statement-timeout"), Committers: k.Int("database-committers")},
			HookURLs:        hookURLs,
			FunctionsDir:    k.String("functions-dir"),
			FunctionTimeout: k.Duration("function-timeout"),
		}
		lim := limitsFrom(k)
		cfg.MQTT, cfg.FleetRates = lim.MQTT, lim.Fleet
		srv, err := server.Open(cmd.Context(), cfg)
		if err != nil {
			return explainListen(err, map[string]string{
				"api-addr": k.String("api-addr"), "mqtt-addr": k.String("mqtt-addr"), "mqtt-ws-addr": k.String("mqtt-ws-addr"),
			})
		}
		if addr := k.String("pprof-addr"); addr != "" {
			if err := servePprof(cmd.Context(), addr, logger); err != nil {
				_ = srv.Close()
				return err
			}
		}
		printWelcome(cmd.OutOrStdout(), srv)
		logger.Info("iotcore serving", "api", srv.APIURL(), "mqtt", srv.MQTTAddr().String(), "data_dir", srv.Config.DataDir,
			"account", srv.Config.AccountID, "region", srv.Config.Region)
		err = srv.Run(cmd.Context())
		// The exit status says whether the database closed cleanly.
		if cerr := srv.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close: %w", cerr))
		}
		if err == nil {
			logger.Info("iotcore stopped")
		}
		return err
	}
	return cmd
}

// loadConfig layers the YAML file, the environment and the flags that were
// set. A file key that is no flag's name is an error; an IOTCORE_ variable
// that is no flag's is returned, for the caller to warn about once it has
// a logger.
func loadConfig(fs *pflag.FlagSet) (*koanf.Koanf, []envWarning, error) {
	k := koanf.New(".")
	cfgPath, _ := fs.GetString("config")
	if cfgPath == "" {
		cfgPath = os.Getenv("IOTCORE_CONFIG")
	}
	if cfgPath != "" {
		if err := k.Load(file.Provider(cfgPath), yaml.Parser()); err != nil {
			return nil, nil, fmt.Errorf("config file %s: %w", cfgPath, err)
		}
		if err := checkFileKeys(fs, k.Keys()); err != nil {
			return nil, nil, fmt.Errorf("config file %s: %w", cfgPath, err)
		}
	}
	if err := k.Load(env.Provider(envPrefix, ".", func(s string) string {
		return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s, envPrefix)), "_", "-")
	}), nil); err != nil {
		return nil, nil, err
	}
	if err := k.Load(posflag.Provider(fs, ".", k), nil); err != nil {
		return nil, nil, err
	}
	return k, unknownEnv(fs, os.Environ()), nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// printWelcome tells the operator how to reach the API. The credentials are
// printed once, on first start, and only to a terminal, so that they never
// land in a log; they stay in the 0600 credentials file.
func printWelcome(w io.Writer, srv *server.Server) {
	credPath := filepath.Join(srv.Config.DataDir, server.CredentialsFile)
	if srv.FirstStart {
		fmt.Fprintf(w, "iotcore: created admin API credentials in %s (profile default)\n", credPath)
		if isTerminal(w) {
			fmt.Fprintf(w, "  aws_access_key_id     = %s\n  aws_secret_access_key = %s\n",
				srv.Credentials.AccessKeyID, srv.Credentials.SecretAccessKey)
		}
	}
	fmt.Fprintf(w, "iotcore: devices connect with MQTT over mutual TLS to --mqtt-addr %s, trusting %s\n",
		srv.MQTTAddr(), filepath.Join(srv.Config.DataDir, server.RootCAFile))
	if ws := srv.MQTTWebSocketAddr(); ws != nil {
		endpoint := ws.String()
		if ta, ok := ws.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
			endpoint = net.JoinHostPort("localhost", strconv.Itoa(ta.Port))
		}
		fmt.Fprintf(w, "iotcore: MQTT over WebSocket (wss://%s/mqtt: a client certificate, or SigV4 with the admin credentials) at --mqtt-ws-addr %s, "+
			"watch messages with:\n  iotcore mqtt sub --endpoint %s --data-dir %s '#'\n", endpoint, ws, endpoint, srv.Config.DataDir)
	}
	caBundle := ""
	if srv.Config.APITLS {
		caBundle = " --ca-bundle " + filepath.Join(srv.Config.DataDir, server.RootCAFile)
	}
	fmt.Fprintf(w, "iotcore: the web console is at %s (sign in with the admin access key)\n", srv.ConsoleURL())
	if isTerminal(w) {
		// A bearer secret for an hour: to a terminal only, as the credentials.
		fmt.Fprintf(w, "  one-time sign-in link (valid once, for an hour): %s\n", srv.ConsoleSignInLink())
	} else {
		fmt.Fprintf(w, "  a one-time sign-in link: iotcore console link --data-dir %s --api-url %s\n", srv.Config.DataDir, srv.APIURL())
	}
	fmt.Fprintf(w, "iotcore: use the API with:\n  AWS_SHARED_CREDENTIALS_FILE=%s aws --region %s --endpoint-url %s%s iot list-things\n",
		credPath, srv.Config.Region, srv.APIURL(), caBundle)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
