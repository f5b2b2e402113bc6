package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/iotcore/iotcore/internal/awsapi"
	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
)

// openAPI opens the audit log and binds the control-plane API: AWS's IoT
// API, signed with the admin credentials, beside the operational endpoints.
func (s *Server) openAPI() (err error) {
	cfg := s.Config
	// The audit log: one JSON line per control-plane change, appended, 0600.
	if s.auditFile, err = os.OpenFile(s.path(AuditLogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return fmt.Errorf("open the audit log: %w", err)
	}
	s.audit = slog.New(slog.NewJSONHandler(s.auditFile, nil))
	api := awsapi.New(&awsapi.Server{
		Registry: s.Registry,
		Verifier: &sigv4.Verifier{
			Service: "iot",
			// Older botocore models (Debian's aws CLI v2.9) sign IoT calls as
			// execute-api; aws iot-data signs iotdata, which awsapi serves
			// only its data-plane routes.
			ServiceAliases: []string{"execute-api", awsapi.DataPlaneSigningName},
			Secret:         s.adminSecret,
		},
		Endpoint:     cfg.Hostname,
		RuleSQL:      ruleSQL{},
		RuleFailures: ruleFailures{s.rules},
		Logger:       cfg.Logger,
		Audit:        s.audit,
		Metrics:      s.Metrics,
		Data:         s.Broker, // iot-data Publish: an IAM call, to which no IoT policy applies
		Shadows:      s.shadows,
		Index:        s.index,
	})
	if s.apiListener, err = net.Listen("tcp", cfg.APIAddr); err != nil {
		return fmt.Errorf("listen for the API: %w", err)
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
			Certificates:   []tls.Certificate{s.ServerCertificate},
			GetCertificate: s.domains.GetCertificate,
			MinVersion:     tls.VersionTLS12,
			// HTTP/1.1 only, as over plain HTTP: the timeouts above apply
			// per connection as they say.
			NextProtos: []string{"http/1.1"},
		}
		s.apiServer.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		s.apiListener = tls.NewListener(s.apiListener, s.apiServer.TLSConfig)
	}
	return nil
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
		if s.cluster != nil {
			if err := s.cluster.Ready(); err != nil {
				http.Error(w, "cluster unavailable: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	// MQTT over a SigV4-signed WebSocket on this listener too, as AWS
	// serves wss://<endpoint>/mqtt beside its HTTPS APIs: the console's
	// MQTT test client connects here, same-origin.
	mux.Handle("GET /mqtt", s.Broker.SignedWebSocketHandler())
	s.console = s.newConsole()
	mux.Handle("/console/", s.console)
	mux.Handle("/console", s.console)
	mux.Handle("/", api)
	return mux
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
