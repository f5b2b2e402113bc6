package registry

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
)

// Service applies AWS IoT's registry rules on top of a Store.
type Service struct {
	Store   Store
	Account iot.Account

	// IssuingCA signs the certificates of CreateKeysAndCertificate and
	// CreateCertificateFromCsr. Nil disables both operations.
	IssuingCA *pki.Authority

	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// Notify, when set, is called after each committed change with the
	// events of that change (never none), so that live connections can
	// re-evaluate their authorization and the rules engine reload its
	// rules.
	Notify func([]Event)

	// Logger receives warnings about saved documents that will not work
	// as meant (policies naming another region or account); nil discards
	// them.
	Logger *slog.Logger

	// SharedStore says that other Services write the Store too (iotcore
	// nodes on one PostgreSQL database): answers are then not cached
	// across calls, since another node's change would not invalidate them,
	// unless that node's changes reach this one through ChangedElsewhere
	// (a cluster), which sets CacheSharedStore.
	SharedStore bool
	// CacheSharedStore caches answers of a SharedStore as of a store of
	// its own: every other writer's changes reach ChangedElsewhere.
	CacheSharedStore bool

	principals principalCache
	// attemptsPrunedAt is when old provisioning attempts were last pruned
	// (Unix nanoseconds; insertAttempt).
	attemptsPrunedAt atomic.Int64
}

// ChangedElsewhere takes the events of a change another Service committed
// to the shared Store: cached answers are dropped. (The caller hands the
// events on to the live connections and the rules engine.)
func (s *Service) ChangedElsewhere(events []Event) {
	if slices.ContainsFunc(events, Event.AffectsPrincipals) {
		s.principals.invalidate()
	}
}

// AffectsPrincipals reports whether the change may change what a device
// may do: the principal contexts cached and the live sessions depend on
// it. Shadows, domain configurations and the fleet index's configuration
// do not.
func (e Event) AffectsPrincipals() bool {
	switch e.Kind {
	case ShadowChanged, DomainConfigurationChanged, IndexingConfigurationChanged, TopicRuleChanged:
		return false
	}
	return true
}

// caching reports whether answers may be kept across calls.
func (s *Service) caching() bool { return !s.SharedStore || s.CacheSharedStore }

// EventKind says what kind of resource an Event is about.
type EventKind int

// Event kinds.
const (
	CertificateChanged           EventKind = iota + 1 // a certificate's status changed or it was deleted
	CACertificateChanged                              // a CA's status or configuration changed
	PolicyChanged                                     // a policy's default version changed or it was deleted
	AttachmentsChanged                                // the policies of a target changed (ID is the target)
	ThingChanged                                      // a thing's type, attributes or principals changed
	TopicRuleChanged                                  // a topic rule was created, replaced, enabled, disabled or deleted (ID is its name)
	DomainConfigurationChanged                        // a domain configuration was created, changed or deleted (ID is its name)
	ShadowChanged                                     // a thing's shadow (classic or named) was written or deleted (ID is the thing name)
	IndexingConfigurationChanged                      // UpdateIndexingConfiguration changed the fleet index's configuration
)

// Event describes one committed change.
type Event struct {
	Kind EventKind
	ID   string // certificate id, CA id, policy name, target ARN, thing name or rule name
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// change collects the events of one transaction; they are sent after commit.
type change struct {
	now    time.Time
	events []Event
	// principalsUntouched says the transaction wrote nothing a principal
	// context reads (certificates, things, their groups, policies and
	// attachments), so the cached contexts stay true.
	principalsUntouched bool
}

func (c *change) emit(kind EventKind, id string) { c.events = append(c.events, Event{kind, id}) }

// touchesNoPrincipal marks a transaction whose writes no PrincipalContext
// reads (provisioning attempts, registration codes, tags, templates): the
// cached contexts of every connected device stay valid. Without it, every
// JITR reconnect and failed JITP (which record an attempt) would make every
// device's next connect read the store again.
func (c *change) touchesNoPrincipal() { c.principalsUntouched = true }

// update runs fn in one store transaction and sends its events after commit.
func (s *Service) update(ctx context.Context, fn func(tx Tx, c *change) error) error {
	var (
		c    *change
		fnOK bool
	)
	err := s.Store.Update(ctx, func(tx Tx) error {
		c = &change{now: s.now()} // fresh per attempt: a store may retry fn
		ferr := fn(tx, c)
		fnOK = ferr == nil
		return ferr
	})
	// When fn failed the store rolled back: nothing changed. When fn
	// succeeded the change may have committed even if Update failed after
	// it (a commit that fails may have reached the disk), so the cache goes.
	if fnOK && !c.principalsUntouched {
		s.principals.invalidate()
	}
	if err != nil {
		return err
	}
	if s.Notify != nil && len(c.events) > 0 {
		s.Notify(c.events)
	}
	return nil
}

func (s *Service) view(ctx context.Context, fn func(tx Tx) error) error {
	return s.Store.View(ctx, fn)
}

// read runs fn, a read of one statement, outside a transaction
// (Store.Read).
func (s *Service) read(ctx context.Context, fn func(tx Tx) error) error {
	return s.Store.Read(ctx, fn)
}

func newID() string { return uuid.NewString() }

// notFound turns a store's ErrNotFound into ResourceNotFoundException.
func notFound(err error, kind, name string) error {
	if errors.Is(err, ErrNotFound) {
		return iot.NotFound(kind, name)
	}
	return err
}
