package rules

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/iotsql"
	"github.com/iotcore/iotcore/internal/loglimit"
	"github.com/iotcore/iotcore/internal/registry"
)

// Publisher delivers the messages of republish actions and the engine's
// failure events to the broker's subscribers, without handing them back to
// the engine: the engine evaluates its own republished messages, counting
// hops.
type Publisher interface {
	PublishFromRules(topic string, payload []byte, qos byte) error
}

// Metrics counts what the engine does; rule and action names are bounded
// sets (at most 1000 rules, AWS's limit).
type Metrics interface {
	RuleAction(rule, action, outcome string) // outcome: success or failure
}

// Outcomes of RuleAction.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Defaults of Config's zero values.
const (
	DefaultWorkers     = 2
	DefaultQueueSize   = 8192
	DefaultSlowActions = 64
	// MaxHops is how many republish actions in a row a message may go
	// through: a message the MaxHops-th republish sent is delivered to
	// subscribers but evaluated by no rule (iotcore's guard; AWS documents
	// none).
	MaxHops = 8
)

// Config configures an Engine. Every field is optional.
type Config struct {
	// Publisher sends republished messages and failure events; nil makes
	// every republish fail.
	Publisher Publisher
	// Functions runs lambda actions; nil makes every lambda action fail.
	Functions Invoker
	// HTTPClient makes the requests of http actions; nil means
	// http.DefaultClient (each attempt is bounded by the engine).
	HTTPClient *http.Client
	// Logger receives action failures and skipped rules; nil discards.
	Logger *slog.Logger
	// Metrics counts actions; nil counts nothing.
	Metrics Metrics
	// Workers evaluate the rules; 0 means DefaultWorkers.
	Workers int
	// QueueSize is how many messages may wait for the workers; 0 means
	// DefaultQueueSize. A message that finds it full is dropped and counted.
	QueueSize int
	// SlowActions bounds the lambda and http actions running at once; 0
	// means DefaultSlowActions. A worker waits for a slot.
	SlowActions int
	// Now and NewUUID give timestamp() and newuuid(); nil means the clock
	// and random v4 UUIDs.
	Now     func() time.Time
	NewUUID func() string
}

// Stats are the engine's counters.
type Stats struct {
	Messages int64 // messages evaluated
	Matched  int64 // (message, rule) pairs whose WHERE held
	Dropped  int64 // messages dropped: the queue was full
	Looped   int64 // republished messages not evaluated: MaxHops reached
	Failures int64 // actions that failed
}

// Engine runs topic rules on messages.
type Engine struct {
	cfg     Config
	rules   atomic.Pointer[ruleSet]
	queue   chan Message
	slots   chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
	actions sync.WaitGroup
	// mu orders Message's sends before Close's close of the queue.
	mu      sync.RWMutex
	closed  bool
	dropLog loglimit.Limiter
	failLog loglimit.Limiter
	recent  recentFailures

	messages, matched, dropped, looped, failures atomic.Int64
}

// Open starts an engine with no rules; Load gives it its rules.
func Open(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.SlowActions <= 0 {
		cfg.SlowActions = DefaultSlowActions
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Engine{
		cfg:     cfg,
		queue:   make(chan Message, cfg.QueueSize),
		slots:   make(chan struct{}, cfg.SlowActions),
		dropLog: loglimit.Limiter{Rate: 1.0 / 60, Burst: 1},
		failLog: loglimit.Limiter{Rate: 10, Burst: 100},
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.rules.Store(newRuleSet())
	for range cfg.Workers {
		e.workers.Add(1)
		go e.work()
	}
	return e
}

// Close stops the workers, cancels the actions in flight and waits for
// them. Messages still queued are not evaluated.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.queue)
	e.mu.Unlock()
	e.cancel()
	e.workers.Wait()
	e.actions.Wait()
	return nil
}

// Load replaces the engine's rules with the enabled ones of rules. A rule
// that does not compile is skipped, and said in the error; the others
// take effect.
func (e *Engine) Load(rules []registry.TopicRule) error {
	set := newRuleSet()
	var errs []error
	for _, r := range rules {
		if r.RuleDisabled {
			continue
		}
		c, err := compile(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.add(c)
	}
	e.rules.Store(set)
	return errors.Join(errs...)
}

// Wants reports whether a message on topic would reach any rule: a Basic
// Ingest topic always does (the rule's absence is for the engine to count),
// another when an enabled rule's FROM matches it. The broker asks before
// building what it hands to Message, and before building events.
func (e *Engine) Wants(topic string) bool {
	if BasicIngest(topic) {
		return true
	}
	wanted := false
	e.rules.Load().candidates(topic, func(r *rule) bool {
		wanted = r.stmt.Matches(topic)
		return !wanted
	})
	return wanted
}

// Message queues m for the rules, without waiting: when the queue is full
// the message is dropped and counted. The engine keeps m.Payload: the
// caller must not change it afterwards.
func (e *Engine) Message(m Message) {
	if m.Received.IsZero() {
		m.Received = e.cfg.Now()
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return
	}
	select {
	case e.queue <- m:
	default:
		e.dropped.Add(1)
		if ok, suppressed := e.dropLog.Allow(e.cfg.Now()); ok {
			e.cfg.Logger.Warn("rules: message dropped, the rules engine is behind", "topic", m.Topic,
				"queue", cap(e.queue), "dropped_since_last_line", suppressed)
		}
	}
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{Messages: e.messages.Load(), Matched: e.matched.Load(), Dropped: e.dropped.Load(),
		Looped: e.looped.Load(), Failures: e.failures.Load()}
}

func (e *Engine) work() {
	defer e.workers.Done()
	for m := range e.queue {
		e.evaluate(m)
	}
}

// evaluate runs every rule m reaches.
func (e *Engine) evaluate(m Message) {
	e.messages.Add(1)
	set := e.rules.Load()
	if name, rest, ok := splitBasicIngest(m.Topic); ok {
		if r := set.byName[name]; r != nil {
			m.Topic = rest
			e.apply(r, m)
		}
		return
	}
	set.candidates(m.Topic, func(r *rule) bool {
		e.apply(r, m)
		return true
	})
}

// input is m as the SQL sees it.
func (e *Engine) input(m Message) iotsql.Input {
	return iotsql.Input{Topic: m.Topic, Payload: m.Payload, ClientID: m.ClientID, Principal: m.Principal,
		Timestamp: m.Received, NewUUID: e.cfg.NewUUID}
}

// call is one rule's actions at work on one message.
type call struct {
	rule   *rule
	msg    Message
	in     iotsql.Input // the message, as substitution templates see it
	result []byte       // the SELECT's result: the actions' payload
	// errorAction marks the call of a rule's errorAction, whose failure
	// has no errorAction.
	errorAction bool
}

// apply runs r on m: its actions when its statement matches.
func (e *Engine) apply(r *rule, m Message) {
	if !r.stmt.Matches(m.Topic) {
		return
	}
	c := &call{rule: r, msg: m, in: e.input(m)}
	out, matched, err := r.stmt.Evaluate(c.in)
	if err != nil {
		e.fail(c, failure{Action: "sql", Message: err.Error()})
		return
	}
	if !matched {
		return
	}
	e.matched.Add(1)
	c.result = out
	for _, a := range r.actions {
		e.dispatch(c, a)
	}
}

// dispatch runs action a of call c: a fast one at once, a slow one on its
// own goroutine once one of the SlowActions slots is free.
func (e *Engine) dispatch(c *call, a action) {
	if !a.slow() {
		e.runAction(c, a)
		return
	}
	select {
	case e.slots <- struct{}{}:
	case <-e.ctx.Done():
		return
	}
	e.actions.Add(1)
	go func() {
		defer e.actions.Done()
		defer func() { <-e.slots }()
		e.runAction(c, a)
	}()
}

// runAction runs one action, and its failure handling.
func (e *Engine) runAction(c *call, a action) {
	err := a.run(e.ctx, e, c)
	if err == nil {
		e.count(c.rule.name, a.kind(), OutcomeSuccess)
		return
	}
	e.count(c.rule.name, a.kind(), OutcomeFailure)
	e.fail(c, failure{Action: failedActionName(a.kind()), Resource: a.resource(), Message: err.Error()})
}

func (e *Engine) count(rule, action, outcome string) {
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.RuleAction(rule, action, outcome)
	}
}

// republish sends a republish action's message, and evaluates it as a new
// message one hop further on.
func (e *Engine) republish(topic string, payload []byte, qos byte, hops int) error {
	if e.cfg.Publisher == nil {
		return errors.New("republish: no publisher")
	}
	if err := e.cfg.Publisher.PublishFromRules(topic, payload, qos); err != nil {
		return err
	}
	if hops >= MaxHops {
		e.looped.Add(1)
		e.cfg.Logger.Warn("rules: a republished message is not evaluated: it went through too many republish actions",
			"topic", topic, "hops", hops, "max", MaxHops)
		return nil
	}
	e.Message(Message{Topic: topic, Payload: payload, QoS: qos, Received: e.cfg.Now(), hops: hops})
	return nil
}
