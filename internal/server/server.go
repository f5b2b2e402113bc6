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
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/cluster"
	"github.com/iotcore/iotcore/internal/console"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/metrics"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/provision"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/rules"
	"github.com/iotcore/iotcore/internal/shadows"
	"github.com/iotcore/iotcore/internal/thingindex"
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
	fleet       *provision.Fleet
	rules       *rules.Engine
	shadows     *shadows.Service
	domains     *domainCertificates // the custom domains' server certificates
	index       *thingindex.Index   // SearchIndex's fleet index
	cluster     *cluster.Node       // nil: no cluster
	functions   functionRunner
	db          store
	auditFile   *os.File
	audit       *slog.Logger // control-plane changes, one JSON line each
	console     *console.Console
	apiListener net.Listener
	apiServer   *http.Server
	// FirstStart reports whether this start created the data directory's credentials.
	FirstStart bool
}

// Open prepares the data directory and binds the listeners; Run serves.
// Each step below takes what the ones before it made; whatever fails, what
// was opened is closed again.
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
	if err := s.takeDataDir(); err != nil {
		return nil, err
	}
	serviceCA, err := s.loadOrCreateKeys(time.Now())
	if err != nil {
		return nil, err
	}
	if err := s.openRegistry(ctx, serviceCA); err != nil {
		return nil, err
	}
	s.index = &thingindex.Index{Registry: s.Registry, Logger: s.Config.Logger}
	s.domains = &domainCertificates{registry: s.Registry, ca: s.RootCA, log: s.Config.Logger}
	if err := s.domains.reload(ctx); err != nil {
		return nil, err
	}
	s.Metrics = metrics.New()
	exportStoreStats(s.Metrics, s.db)
	if err := s.openFleet(); err != nil {
		return nil, err
	}
	if err := s.openRules(ctx); err != nil {
		return nil, err
	}
	s.openShadows()
	if err := s.openCluster(); err != nil {
		return nil, err
	}
	if err := s.openBroker(); err != nil {
		return nil, err
	}
	if err := s.listenToCluster(); err != nil {
		return nil, err
	}
	if err := s.openAPI(); err != nil {
		return nil, err
	}
	if err := s.openFunctions(); err != nil {
		return nil, err
	}
	return s, nil
}

// path names a file of the data directory.
func (s *Server) path(name string) string { return filepath.Join(s.Config.DataDir, name) }

// takeDataDir creates the data directory if need be and locks it: nothing
// in it is read or written before the lock is this process's.
func (s *Server) takeDataDir() (err error) {
	if err := os.MkdirAll(s.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if s.lock, err = lockDataDir(s.Config.DataDir); err != nil {
		return err
	}
	warnOpenDataDir(s.Config.DataDir, s.Config.Logger)
	return nil
}

// loadOrCreateKeys loads the admin credentials, the root CA devices trust,
// the server certificate and the service CA, creating those that do not
// exist yet, and returns the service CA.
func (s *Server) loadOrCreateKeys(now time.Time) (serviceCA *pki.Authority, err error) {
	s.Credentials, s.FirstStart, err = loadOrCreateCredentials(s.path(CredentialsFile))
	if err != nil {
		return nil, err
	}
	s.RootCA, _, err = pki.LoadOrCreateAuthority(s.path(RootCAFile), s.path(RootCAKeyFile),
		pkix.Name{CommonName: "iotcore Root CA", Organization: []string{"iotcore"}}, 0, now)
	if err != nil {
		return nil, err
	}
	hosts := uniq([]string{s.Config.Hostname, "localhost", "127.0.0.1"})
	var reason string
	s.ServerCertificate, reason, err = pki.LoadOrCreateServerCertificate(s.RootCA, s.path(ServerCertFile), s.path(ServerKeyFile), hosts, 0, now)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		s.Config.Logger.Info("issued the server certificate", "reason", reason, "hosts", hosts)
	}
	// The service CA outlives 2049-12-31, the expiry AWS gives the certificates it issues.
	serviceCA, _, err = pki.LoadOrCreateAuthority(s.path(ServiceCAFile), s.path(ServiceCAKey),
		pkix.Name{CommonName: "iotcore Service CA", Organization: []string{"iotcore"}}, serviceCAExpiry.Sub(now), now)
	return serviceCA, err
}

// openRegistry opens the database and the registry on it.
func (s *Server) openRegistry(ctx context.Context, serviceCA *pki.Authority) (err error) {
	cfg := s.Config
	if s.db, err = openStore(ctx, cfg, s.path(DatabaseFile)); err != nil {
		return err
	}
	s.Registry = &registry.Service{
		Store:     s.db,
		Account:   iot.Account{ID: cfg.AccountID, Region: cfg.Region},
		IssuingCA: serviceCA,
		Logger:    cfg.Logger, // warnings about saved documents (foreign ARNs)
		// Other nodes may write a PostgreSQL registry.
		SharedStore: cfg.DatabaseURL != "",
	}
	return nil
}

// openBroker binds the MQTT listeners, with the gate that admits devices
// (and provisions them) and follows the registry's changes.
func (s *Server) openBroker() (err error) {
	cfg := s.Config
	gate := &broker.Gatekeeper{Registry: s.Registry, Account: s.Registry.Account, Logger: cfg.Logger, AcceptFirstConnection: cfg.AcceptFirstConnection,
		IAMAllowed: s.isAdminKey}
	s.gate = gate
	gate.Presence = s.index.Connected
	provisioner := &provision.Provisioner{Registry: s.Registry, Logger: cfg.Logger, Metrics: s.Metrics}
	gate.Provisioner = broker.ProvisionerFunc(func(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) error {
		_, err := provisioner.Provision(ctx, cert, ca)
		return err
	})
	s.Registry.Notify = func(events []registry.Event) {
		s.domains.reloadOn(events)
		s.index.OnRegistryChange(events)
		gate.OnRegistryChange(principalEvents(events))
		s.onRulesChange(events)
		if s.cluster != nil {
			s.cluster.RegistryChanged(events)
		}
	}
	var forward mochi.Cluster
	var sessions mochi.SessionSource
	if s.cluster != nil {
		forward = s.cluster
		sessions = clusterSessions{node: s.cluster, log: cfg.Logger}
		gate.Admitted = s.cluster.ClientConnected
	}
	s.Broker, err = mochi.Open(mochi.Config{
		Addr:          cfg.MQTTAddr,
		WebSocketAddr: cfg.MQTTWebSocketAddr,
		// SigV4-presigned upgrades, signed with the admin credentials.
		WebSocketAuth:  presignedWebSocket{&sigv4.Verifier{Service: WebSocketSigningName, Secret: s.adminSecret}},
		Certificate:    s.ServerCertificate,
		GetCertificate: s.domains.GetCertificate,
		Gate:           gate,
		Logger:         cfg.Logger,
		Limits:         cfg.MQTT,
		Engine:         cfg.MQTTEngine,
		Requests:       s.fleet,
		Rules:          messageSink{rules: s.rules, shadows: s.shadows},
		Cluster:        forward,
		Sessions:       sessions,
	})
	if err != nil {
		return err
	}
	gate.Events, provisioner.Events, s.fleet.Events = s.Broker, s.Broker, s.Broker
	s.shadows.SetPublisher(s.Broker)
	exportBrokerStats(s.Metrics, s.Broker)
	return nil
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
	g.Go(func() error { return s.pruneUnclaimed(ctx) })
	return g.Wait()
}

// Close releases the listeners and the database.
func (s *Server) Close() error {
	var errs []error
	if s.cluster != nil {
		s.cluster.Close()
	}
	if s.shadows != nil {
		s.shadows.Close()
	}
	if s.Broker != nil {
		errs = append(errs, s.Broker.Close())
	}
	if s.rules != nil {
		errs = append(errs, s.rules.Close())
	}
	errs = append(errs, s.closeFunctions())
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
