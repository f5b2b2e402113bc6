package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iotcore/iotcore/internal/awsapi"
	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/metrics"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/provision"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// Files in the data directory.
const (
	DatabaseFile    = "iotcore.db"
	CredentialsFile = "credentials"
	RootCAFile      = "ca.pem"
	RootCAKeyFile   = "ca.key"
	ServerCertFile  = "server.pem"
	ServerKeyFile   = "server.key"
	ServiceCAFile   = "service-ca.pem"
	ServiceCAKey    = "service-ca.key"
	AuditLogFile    = "audit.log"
)

// serviceCAExpiry is when the service CA expires: after the 2049-12-31 that
// CreateKeysAndCertificate certificates carry, as AWS's do.
var serviceCAExpiry = time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC)

// Server is a running gateway.
type Server struct {
	Config      Config
	Credentials Credentials
	Registry    *registry.Service
	// ServerCertificate is the TLS certificate devices see, signed by the root CA.
	ServerCertificate tls.Certificate
	RootCA            *pki.Authority

	// Broker is the MQTT data plane.
	Broker *mochi.Broker
	// Metrics are served on the API listener at /metrics.
	Metrics *metrics.Metrics

	lock        *dataDirLock
	gate        *broker.Gatekeeper
	db          *sqlite.DB
	auditFile   *os.File
	apiListener net.Listener
	apiServer   *http.Server
	// FirstStart reports whether this start created the data directory's credentials.
	FirstStart bool
}

// Open prepares the data directory and binds the listeners; Run serves.
func Open(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{Config: cfg}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// Nothing in the directory is read or written before the lock is ours.
	if s.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	warnOpenDataDir(cfg.DataDir, cfg.Logger)
	path := func(name string) string { return filepath.Join(cfg.DataDir, name) }
	now := time.Now()

	s.Credentials, s.FirstStart, err = loadOrCreateCredentials(path(CredentialsFile))
	if err != nil {
		return nil, err
	}
	s.RootCA, _, err = pki.LoadOrCreateAuthority(path(RootCAFile), path(RootCAKeyFile),
		pkix.Name{CommonName: "iotcore Root CA", Organization: []string{"iotcore"}}, 0, now)
	if err != nil {
		return nil, err
	}
	hosts := uniq([]string{cfg.Hostname, "localhost", "127.0.0.1"})
	var reason string
	s.ServerCertificate, reason, err = pki.LoadOrCreateServerCertificate(s.RootCA, path(ServerCertFile), path(ServerKeyFile), hosts, 0, now)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		cfg.Logger.Info("issued the server certificate", "reason", reason, "hosts", hosts)
	}
	// The service CA outlives 2049-12-31, the expiry AWS gives the certificates it issues.
	serviceCA, _, err := pki.LoadOrCreateAuthority(path(ServiceCAFile), path(ServiceCAKey),
		pkix.Name{CommonName: "iotcore Service CA", Organization: []string{"iotcore"}}, serviceCAExpiry.Sub(now), now)
	if err != nil {
		return nil, err
	}
	if s.db, err = sqlite.OpenWith(ctx, path(DatabaseFile), sqlite.Options{Synchronous: sqlite.Synchronous(cfg.DatabaseSynchronous)}); err != nil {
		return nil, err
	}
	s.Registry = &registry.Service{
		Store:     s.db,
		Account:   iot.Account{ID: cfg.AccountID, Region: cfg.Region},
		IssuingCA: serviceCA,
		Logger:    cfg.Logger, // warnings about saved documents (foreign ARNs)
	}
	s.Metrics = metrics.New()
	gate := &broker.Gatekeeper{Registry: s.Registry, Account: s.Registry.Account, Logger: cfg.Logger, AcceptFirstConnection: cfg.AcceptFirstConnection}
	s.gate = gate
	provisioner := &provision.Provisioner{Registry: s.Registry, Logger: cfg.Logger, Metrics: s.Metrics}
	gate.Provisioner = broker.ProvisionerFunc(func(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) error {
		_, err := provisioner.Provision(ctx, cert, ca)
		return err
	})
	s.Registry.Notify = gate.OnRegistryChange
	s.Broker, err = mochi.Open(mochi.Config{
		Addr:          cfg.MQTTAddr,
		WebSocketAddr: cfg.MQTTWebSocketAddr,
		Certificate:   s.ServerCertificate,
		Gate:          gate,
		Logger:        cfg.Logger,

		Limits: cfg.MQTT,
	})
	if err != nil {
		return nil, err
	}
	gate.Events, provisioner.Events = s.Broker, s.Broker
	exportBrokerStats(s.Metrics, s.Broker)

	// The audit log: one JSON line per control-plane change, appended, 0600.
	if s.auditFile, err = os.OpenFile(path(AuditLogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("open the audit log: %w", err)
	}
	creds := s.Credentials
	api := awsapi.New(&awsapi.Server{
		Registry: s.Registry,
		Verifier: &sigv4.Verifier{
			Service: "iot",
			// Older botocore models (Debian's aws CLI v2.9) sign IoT calls as execute-api.
			ServiceAliases: []string{"execute-api"},
			Secret: func(id string) (string, bool) {
				if id == creds.AccessKeyID {
					return creds.SecretAccessKey, true
				}
				return "", false
			},
		},
		Endpoint: cfg.Hostname,
		Logger:   cfg.Logger,
		Audit:    slog.New(slog.NewJSONHandler(s.auditFile, nil)),
		Metrics:  s.Metrics,
	})
	if s.apiListener, err = net.Listen("tcp", cfg.APIAddr); err != nil {
		return nil, fmt.Errorf("listen for the API: %w", err)
	}
	// A slow client holds a connection for at most ReadTimeout while it
	// sends its request (a slow TLS handshake or slow headers for at most
	// ReadHeaderTimeout), and WriteTimeout until the response is written
	// (it runs from the end of the headers); an idle one for IdleTimeout.
	s.apiServer = &http.Server{
		Handler:           s.routes(api),
		ReadHeaderTimeout: min(apiReadHeaderTimeout, cfg.APIReadTimeout),
		ReadTimeout:       cfg.APIReadTimeout,
		WriteTimeout:      2 * cfg.APIReadTimeout,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	if cfg.APITLS {
		s.apiServer.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{s.ServerCertificate},
			MinVersion:   tls.VersionTLS12,
			// HTTP/1.1 only, as over plain HTTP: the timeouts above apply
			// per connection as they say.
			NextProtos: []string{"http/1.1"},
		}
		s.apiServer.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		s.apiListener = tls.NewListener(s.apiListener, s.apiServer.TLSConfig)
	}
	return s, nil
}

// APIURL is the endpoint URL to give the aws CLI and SDKs. Over TLS it names
// a host the server certificate names: 127.0.0.1 or localhost on loopback,
// Hostname otherwise.
func (s *Server) APIURL() string {
	addr := s.apiListener.Addr().(*net.TCPAddr)
	if !s.Config.APITLS {
		return "http://" + addr.String()
	}
	host := s.Config.Hostname
	switch {
	case addr.IP.Equal(net.IPv4(127, 0, 0, 1)):
		host = "127.0.0.1"
	case addr.IP.IsLoopback():
		host = "localhost"
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// routes serves the operational endpoints, unsigned and read-only, beside
// the SigV4-signed AWS API.
func (s *Server) routes(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.db.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("/", api)
	return mux
}

// MQTTAddr is the address devices connect to.
func (s *Server) MQTTAddr() net.Addr { return s.Broker.Addr() }

// Run serves the API and the broker until ctx ends (or one of them fails),
// then drains both: the listeners close at once; MQTT 5 devices are told
// 0x8B (server shutting down) and every device connection ends; API requests
// in flight may finish within Config.ShutdownTimeout, after which they are cut.
// Close then closes the database.
func (s *Server) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := s.apiServer.Serve(s.apiListener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("api server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		return s.shutdownAPI()
	})
	g.Go(func() error { return s.Broker.Serve(ctx) })
	g.Go(func() error { return s.gate.Run(ctx) })
	return g.Wait()
}

// shutdownAPI stops the API listener and waits for the requests in flight,
// for Config.ShutdownTimeout at most; then it closes the connections left. Cutting
// them is what the timeout is for, not a failure of the server.
func (s *Server) shutdownAPI() error {
	timeout := s.Config.ShutdownTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.apiServer.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.Config.Logger.Warn("shutdown timeout passed: closing the API connections still open", "shutdown_timeout", timeout)
		if err := s.apiServer.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("api server: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("api server shutdown: %w", err)
	}
	return nil
}

// Close releases the listeners and the database.
func (s *Server) Close() error {
	var errs []error
	if s.Broker != nil {
		errs = append(errs, s.Broker.Close())
	}
	if s.apiListener != nil {
		if err := s.apiListener.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.auditFile != nil {
		errs = append(errs, s.auditFile.Close())
	}
	// Last: the directory is free only once nothing in it is open.
	errs = append(errs, s.lock.release())
	return errors.Join(errs...)
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
