package console

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/fleetindex"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/rules"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// Credentials are the admin access key the operator signs in with.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// Connections is what the console reads and does of the broker's live
// connections (broker.Gatekeeper).
type Connections interface {
	Connections(p broker.ConnectionPage) ([]broker.Connection, bool)
	ConnectionCount() int
	Disconnect(clientID, reason string) int
}

// RuleStatus is what the console shows of the rules engine (rules.Engine).
type RuleStatus interface {
	Stats() rules.Stats
	Failures() []rules.Failure
}

// FleetIndex is the fleet index the things page searches with AWS's
// query language (thingindex.Index, which SearchIndex answers from).
type FleetIndex interface {
	Search(ctx context.Context, index, query, token string, size int) (*fleetindex.Result, error)
}

// Config is what the console needs.
type Config struct {
	Registry    *registry.Service
	Credentials Credentials
	Connections Connections
	Index       FleetIndex // nil: the things page has no query search
	Rules       RuleStatus // nil when no rules engine runs
	// Region is the region the browser's MQTT WebSocket URL is signed for.
	Region string
	// Audit receives one record per change made from the console.
	Audit  *slog.Logger
	Logger *slog.Logger
	Now    func() time.Time
}

// Console serves the web console under Prefix.
type Console struct {
	cfg  Config
	mux  *http.ServeMux
	view *views

	mu       sync.Mutex
	sessions map[string]*session // by cookie value
	used     map[string]time.Time
	signins  signinLimiter
}

// New returns the console for cfg.
func New(cfg Config) *Console {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Audit == nil {
		cfg.Audit = slog.New(slog.DiscardHandler)
	}
	c := &Console{cfg: cfg, view: loadViews(), sessions: map[string]*session{}, used: map[string]time.Time{}}
	c.mux = c.routes()
	return c
}

// routes maps every page; all but sign-in and the static assets need a
// session, and every POST a CSRF token.
func (c *Console) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /console/static/", staticHandler())
	m.HandleFunc("GET /console/signin", c.signinPage)
	m.HandleFunc("POST /console/signin", c.signin)
	m.HandleFunc("GET /console/link", c.signinWithLink)
	page := func(pattern string, h func(http.ResponseWriter, *http.Request, *session)) {
		m.Handle(pattern, c.authenticated(h))
	}
	page("POST /console/signout", c.signout)
	page("GET /console/{$}", c.overview)
	page("GET /console/things", c.things)
	page("GET /console/things/{name}", c.thing)
	page("GET /console/certificates", c.certificates)
	page("GET /console/certificates/{id}", c.certificate)
	page("POST /console/certificates/{id}/status", c.setCertificateStatus)
	page("GET /console/cas", c.caCertificates)
	page("GET /console/cas/{id}", c.caCertificate)
	page("GET /console/policies", c.policies)
	page("GET /console/policies/{name}", c.policy)
	page("GET /console/templates", c.templates)
	page("GET /console/templates/{name}", c.template)
	page("GET /console/attempts", c.attempts)
	page("GET /console/connections", c.connections)
	page("POST /console/connections/disconnect", c.disconnect)
	page("GET /console/rules", c.topicRules)
	page("GET /console/rules/{name}", c.topicRule)
	page("GET /console/mqtt", c.mqttPage)
	page("POST /console/api/mqtt-url", c.mqttURL)
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
	return m
}

// ServeHTTP serves a console request with the security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w, r)
	if r.URL.Path == "/console" {
		http.Redirect(w, r, Prefix, http.StatusFound)
		return
	}
	c.mux.ServeHTTP(w, r)
}
