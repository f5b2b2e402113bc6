package broker

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/policy"
	"github.com/iotcore/iotcore/internal/registry"
)

// Provisioner handles a certificate that a registered, auto-registering CA
// signed but that is not (or not yet fully) registered: JITP or JITR. The
// connection is dropped whatever it returns.
type Provisioner interface {
	Provision(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) error
}

// ProvisionerFunc adapts a function to Provisioner.
type ProvisionerFunc func(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) error

// Provision calls f.
func (f ProvisionerFunc) Provision(ctx context.Context, cert *x509.Certificate, ca *registry.CACertificate) error {
	return f(ctx, cert, ca)
}

// Registry is what the gate reads of the registry's live state.
type Registry interface {
	// PrincipalContext is what authorizing a certificate's connection
	// needs; iot.ResourceNotFound when the certificate is not registered.
	PrincipalContext(ctx context.Context, certID string) (*registry.PrincipalContext, error)
	// CAsForCertificate returns the registered CAs that signed cert.
	CAsForCertificate(ctx context.Context, cert *x509.Certificate) ([]registry.CACertificate, error)
	// CACertificateTags lists a CA certificate's tags.
	CACertificateTags(ctx context.Context, caID string) ([]iot.Tag, error)
}

var _ Registry = (*registry.Service)(nil)

// Gatekeeper is the Gate backed by the registry's live state.
type Gatekeeper struct {
	Registry Registry
	// Account names the resources of the policies' ARNs.
	Account     iot.Account
	Provisioner Provisioner
	Events      Publisher // presence events; nil drops them
	Logger      *slog.Logger
	Now         func() time.Time
	// AcceptFirstConnection lets a device provisioned just in time stay
	// connected on that first connection. AWS drops it (the default); a CA's
	// FirstConnectionTag overrides this for its devices.
	AcceptFirstConnection bool
	// IAMAllowed reports whether an IAM access key may connect over a
	// SigV4-signed WebSocket; such a connection may do everything (iam.go).
	// Nil admits no IAM identity.
	IAMAllowed func(accessKeyID string) bool
	// Admitted, when set, is told the client id of every connection
	// admitted, when, and whether with a clean session (a cluster tells the
	// other nodes, which disconnect their older connections of the id,
	// TakenOverElsewhere, and end their persistent session of it if the
	// new one is clean).
	Admitted func(clientID string, at time.Time, cleanSession bool)
	// Presence, when set, is told of every connection admitted and ended,
	// as the presence events say it: the client id, connected or not,
	// when, and why it disconnected (the fleet index's connectivity).
	Presence func(clientID string, connected bool, at time.Time, disconnectReason string)
	// ApplyWait is how long OnRegistryChange waits for the live sessions to
	// see a change before it returns anyway (they still do, in the
	// background); 0 means DefaultApplyWait, negative not at all.
	ApplyWait time.Duration

	live    liveSet // the sessions, and those past iot:Connect (livesessions.go)
	parsed  documentCache
	changes changeQueue // registry changes the live sessions have yet to see
}

// documentCache keeps parsed policy documents by their text, so that a
// connect does not parse the same documents again: a fleet shares a few
// policies. Documents are immutable once parsed.
type documentCache struct {
	mu   sync.Mutex
	docs map[string]*policy.Document
}

// maxCachedDocuments bounds the cache; it starts over when full.
const maxCachedDocuments = 4096

func (c *documentCache) parse(text string) (*policy.Document, error) {
	c.mu.Lock()
	d, ok := c.docs[text]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := policy.Parse(text)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.docs == nil || len(c.docs) >= maxCachedDocuments {
		c.docs = make(map[string]*policy.Document)
	}
	c.docs[text] = d
	c.mu.Unlock()
	return d, nil
}

var _ Gate = (*Gatekeeper)(nil)

func (g *Gatekeeper) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func refuse(how Refusal, format string, args ...any) error {
	return &RefusedError{How: how, Reason: fmt.Sprintf(format, args...)}
}

// Connect authenticates the peer certificate against the registry, runs JITP or
// JITR for an unknown certificate of an auto-registering CA, and authorizes
// iot:Connect. Refusals say why for the log only.
func (g *Gatekeeper) Connect(ctx context.Context, req ConnectRequest, kick func(reason string)) (Session, error) {
	if len(req.Chain) == 0 && req.IAMAccessKeyID != "" {
		return g.connectIAM(req, kick)
	}
	if len(req.Chain) == 0 {
		return nil, refuse(Drop, "no client certificate")
	}
	leaf := req.Chain[0]
	if err := pki.CheckValidAt(leaf, g.now()); err != nil {
		return nil, refuse(Drop, "client certificate: %v", err)
	}
	id := pki.CertificateID(leaf.Raw)
	seen := g.changes.count()
	pc, err := g.Registry.PrincipalContext(ctx, id)
	switch {
	case iot.IsCode(err, iot.ResourceNotFound), err == nil && pc.Certificate.Status == iot.StatusPendingActivation:
		if err := g.provisionOnConnect(ctx, leaf, id); err != nil {
			return nil, err
		}
		// Accepted on its first connection: go on as for a known
		// certificate, with what provisioning made of it.
		pc = nil
	case err != nil:
		// Not a refusal: the registry could not answer, and the device
		// must hear that the server is unavailable, so that it retries.
		return nil, fmt.Errorf("looking up certificate %s: %w", id, err)
	case pc.Certificate.Status != iot.StatusActive:
		return nil, refuse(Drop, "certificate %s is %s", id, pc.Certificate.Status)
	}
	s := &session{gate: g, certID: id, cert: leaf, clientID: req.ClientID, kick: kick, connected: g.now(),
		remote: req.RemoteAddr, arnPrefix: g.Account.ARN(""), slot: g.live.slot()}
	if err := s.load(ctx, pc); err != nil {
		return nil, loadError(id, err)
	}
	subjects := g.add(s)
	// A change committed after the context was read but before the session
	// joined the live ones would pass it by: read it again if one may
	// concern it. (Any change at all would make every connect of a JITP
	// storm read twice: each device provisioned is a change.)
	if g.changes.concerns(seen, subjects) {
		if err := s.load(ctx, nil); err != nil {
			g.remove(s)
			return nil, loadError(id, err)
		}
	}
	if !s.Authorize(Connect, req.ClientID) {
		g.remove(s)
		return nil, refuse(NotAuthorized, "certificate %s: its policies do not allow iot:Connect for client id %q%s", id, req.ClientID, g.foreignARNs(ctx, id))
	}
	g.admit(s, req.CleanSession)
	g.presence(s.presenceOf(), "connected", req.RemoteAddr)
	return s, nil
}

// foreignARNs says, for a refusal's reason, which resources of the
// certificate's policies name another region or account than the server's
// and so can never match: the usual cause of a device that was provisioned
// and is then refused. "" when none do.
func (g *Gatekeeper) foreignARNs(ctx context.Context, certID string) string {
	pc, err := g.Registry.PrincipalContext(ctx, certID)
	if err != nil {
		return ""
	}
	foreign := registry.ForeignPolicyARNs(g.Account, pc.Policies)
	if len(foreign) == 0 {
		return ""
	}
	return " (" + strings.Join(foreign, "; ") + ")"
}

// loadError is a session's failure to load: a refusal when the certificate
// may not connect, else the registry's failure, which is not the device's.
func loadError(certID string, err error) error {
	var refused *RefusedError
	if errors.As(err, &refused) {
		return err
	}
	return fmt.Errorf("loading the policies of certificate %s: %w", certID, err)
}

// provisionOnConnect handles a certificate the registry does not have, or
// has PENDING_ACTIVATION: only a certificate whose signer is a registered,
// ACTIVE, auto-registering CA gets anywhere, and then only into JITP or JITR
// (AWS sends JITR's event again at every reconnect; a failed JITP is retried
// here). The connection is dropped afterwards, as AWS does, unless
// first-connection acceptance is on: then nil means "admit it now".
func (g *Gatekeeper) provisionOnConnect(ctx context.Context, leaf *x509.Certificate, id string) error {
	ca, err := g.autoRegisteringCA(ctx, leaf)
	if err != nil {
		return err
	}
	if g.Provisioner == nil {
		return refuse(Drop, "certificate %s is not registered and provisioning is off", id)
	}
	if err := g.Provisioner.Provision(ctx, leaf, ca); err != nil {
		return refuse(Drop, "certificate %s: provisioning from CA %s failed: %v", id, ca.ID, err)
	}
	if !g.acceptsFirstConnection(ctx, ca) {
		return refuse(Drop, "certificate %s was provisioned or registered from CA %s; as on AWS, its first connection is dropped", id, ca.ID)
	}
	return nil
}

// FirstConnectionTag is the CA tag that overrides AcceptFirstConnection for
// the devices of one CA: value "accept" or "drop".
const FirstConnectionTag = "iotcore:jitp-first-connection"

// acceptsFirstConnection reports whether a device just provisioned from ca
// may stay connected: the CA's FirstConnectionTag, else the server's setting.
func (g *Gatekeeper) acceptsFirstConnection(ctx context.Context, ca *registry.CACertificate) bool {
	tags, err := g.Registry.CACertificateTags(ctx, ca.ID)
	if err == nil {
		for _, t := range tags {
			if t.Key == FirstConnectionTag {
				return t.Value == "accept"
			}
		}
	}
	return g.AcceptFirstConnection
}

// autoRegisteringCA finds the registered CA that signed leaf (by signature)
// and checks that it may auto-register certificates.
func (g *Gatekeeper) autoRegisteringCA(ctx context.Context, leaf *x509.Certificate) (*registry.CACertificate, error) {
	cas, err := g.Registry.CAsForCertificate(ctx, leaf)
	if err != nil {
		return nil, fmt.Errorf("looking up the CA of %s: %w", leaf.Subject, err)
	}
	if len(cas) == 0 {
		return nil, refuse(Drop, "certificate %q is not registered and not signed by any registered CA", leaf.Subject.String())
	}
	var reasons []string
	for i := range cas {
		ca := &cas[i]
		switch {
		case ca.Status != iot.StatusActive:
			reasons = append(reasons, "CA "+ca.ID+" is "+ca.Status)
		case ca.AutoRegistration != iot.AutoRegistrationEnable:
			reasons = append(reasons, "CA "+ca.ID+" has auto-registration disabled")
		case g.now().After(ca.NotAfter):
			reasons = append(reasons, "CA "+ca.ID+" has expired")
		default:
			return ca, nil
		}
	}
	return nil, refuse(Drop, "certificate %q is not registered: %s", leaf.Subject.String(), strings.Join(reasons, "; "))
}

// add makes s live: a registry change that concerns it reloads it. It
// returns what s is indexed by.
func (g *Gatekeeper) add(s *session) []subject {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.indexed {
		s.indexed = true
		g.live.index(s, nil, s.subjects)
	}
	return s.subjects
}

// remove ends what add began.
func (g *Gatekeeper) remove(s *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.indexed {
		s.indexed = false
		g.live.index(s, s.subjects, nil)
	}
}

// compile parses the effective policy documents; documents the registry
// stored were valid when saved, so a parse error is logged and skipped.
func (g *Gatekeeper) compile(pc *registry.PrincipalContext, vars policy.Variables) (*policy.Set, []string) {
	docs := make([]*policy.Document, 0, len(pc.Policies))
	names := make([]string, 0, len(pc.Policies))
	for _, p := range pc.Policies {
		d, err := g.parsed.parse(p.Document)
		if err != nil {
			if g.Logger != nil {
				g.Logger.Error("stored policy does not parse", "policy", p.Name, "error", err)
			}
			continue
		}
		docs = append(docs, d)
		names = append(names, p.Name)
	}
	return policy.Compile(docs, vars), names
}
