// Package shadows runs AWS IoT's Device Shadow service on the registry: the
// MQTT requests devices publish ($aws/things/<thing>/shadow[/name/<name>]/
// get, update, delete) answered on their accepted and rejected topics, with
// update/delta and update/documents, and the REST operations of the data
// plane (aws iot-data get-thing-shadow, update-thing-shadow,
// delete-thing-shadow, list-named-shadows-for-thing), which publish the
// same messages. The documents are package shadow's; the registry stores
// them and orders the changes of one shadow; replies reach only the
// subscribers whose policies let them receive them (the broker's checks, as
// for any message).
//
// Requests of one shadow are answered in the order they arrived: each
// shadow's requests go to one worker. A thing may have at most
// MaxInFlight requests waiting; more are rejected with 429, as AWS does.
package shadows

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/shadow"
)

// Publisher delivers the service's replies (the broker).
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// Defaults of Config.
const (
	DefaultWorkers     = 8
	DefaultMaxInFlight = 10 // AWS: in-flight requests per thing
	requestTimeout     = 10 * time.Second
)

// Config is what a Service needs.
type Config struct {
	Registry *registry.Service
	Logger   *slog.Logger
	Now      func() time.Time
	// Workers is how many shadows' requests are served at once; 0 means
	// DefaultWorkers.
	Workers int
	// MaxInFlight is how many MQTT requests of one thing may wait; 0 means
	// DefaultMaxInFlight.
	MaxInFlight int
}

// Service is the Device Shadow service.
type Service struct {
	cfg   Config
	pub   Publisher
	queue []chan job
	// rejections are the requests over MaxInFlight, answered 429 by a
	// goroutine of their own.
	rejections chan job
	wg         sync.WaitGroup

	// sending is held (shared) by Handle from its check of closed to its
	// send, and by Close (alone) while it sets closed: no send reaches a
	// closed queue. Workers never take it, so a Handle waiting on a full
	// queue still ends.
	sending  sync.RWMutex
	mu       sync.Mutex
	inFlight map[string]int // by thing
	closed   bool
}

// job is one MQTT request.
type job struct {
	req     shadow.Request
	payload []byte
}

// New starts a Service; SetPublisher must be called before the first
// request.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	s := &Service{cfg: cfg, inFlight: map[string]int{}, rejections: make(chan job, 1024)}
	s.wg.Go(func() {
		for j := range s.rejections {
			s.reject(j.req, j.payload, &shadow.Error{Code: 429, Message: "Too Many Requests"})
		}
	})
	for range cfg.Workers {
		q := make(chan job, 256)
		s.queue = append(s.queue, q)
		s.wg.Go(func() {
			for j := range q {
				s.serve(j)
				s.done(j.req.Thing)
			}
		})
	}
	return s
}

// SetPublisher gives the service the broker it answers through.
func (s *Service) SetPublisher(p Publisher) { s.pub = p }

// Close stops the workers once the requests waiting are served.
func (s *Service) Close() {
	s.sending.Lock() // no Handle is between its check of closed and its send
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.sending.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.sending.Unlock()
	for _, q := range s.queue {
		close(q)
	}
	close(s.rejections)
	s.wg.Wait()
}

// Wants reports whether topic is a shadow request topic.
func (s *Service) Wants(topic string) bool {
	_, ok := shadow.ParseRequestTopic(topic)
	return ok
}

// Handle takes a request a device (or iot-data Publish) published; the
// reply is published on the request's accepted or rejected topic.
func (s *Service) Handle(topic string, payload []byte) {
	req, ok := shadow.ParseRequestTopic(topic)
	if !ok {
		return
	}
	s.sending.RLock()
	defer s.sending.RUnlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.inFlight[req.Thing] >= s.cfg.MaxInFlight {
		// Not on this goroutine: Handle runs inside the broker's handling
		// of the device's PUBLISH, which must not publish.
		select {
		case s.rejections <- job{req: req, payload: payload}:
		default:
			s.cfg.Logger.Warn("shadow request dropped: too many requests at once", "thing", req.Thing, "shadow", req.Name)
		}
		s.mu.Unlock()
		return
	}
	s.inFlight[req.Thing]++
	q := s.queue[shard(req, len(s.queue))]
	s.mu.Unlock()
	q <- job{req: req, payload: payload}
}

func (s *Service) done(thing string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight[thing]--; s.inFlight[thing] <= 0 {
		delete(s.inFlight, thing)
	}
}

// shard picks the worker of a shadow: all its requests go to one.
func shard(r shadow.Request, n int) int {
	h := fnv.New32a()
	h.Write([]byte(r.Thing))
	h.Write([]byte{0})
	h.Write([]byte(r.Name))
	return int(h.Sum32() % uint32(n))
}

// serve answers one MQTT request.
func (s *Service) serve(j job) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	var err error
	switch j.req.Op {
	case shadow.OpGet:
		var doc []byte
		if doc, err = s.get(ctx, j.req, j.payload); err == nil {
			s.publish(j.req.Topic("get/accepted"), doc)
		}
	case shadow.OpUpdate:
		var res *shadow.UpdateResult
		if res, err = s.update(ctx, j.req, j.payload); err == nil {
			s.published(j.req, res)
		}
	case shadow.OpDelete:
		var doc []byte
		if doc, err = s.delete(ctx, j.req, j.payload); err == nil {
			s.publish(j.req.Topic("delete/accepted"), doc)
		}
	}
	if err != nil {
		s.reject(j.req, j.payload, asShadowError(err))
	}
}

// published publishes what an accepted update produces, in AWS's order:
// accepted, delta, documents.
func (s *Service) published(req shadow.Request, res *shadow.UpdateResult) {
	s.publish(req.Topic("update/accepted"), res.Accepted)
	if res.Delta != nil {
		s.publish(req.Topic("update/delta"), res.Delta)
	}
	s.publish(req.Topic("update/documents"), res.Documents)
}

func (s *Service) reject(req shadow.Request, payload []byte, e *shadow.Error) {
	if e.ClientToken == "" {
		e.ClientToken = shadow.ClientToken(payload)
	}
	s.publish(req.Topic(opName(req.Op)+"/rejected"), e.Payload(s.cfg.Now()))
}

func (s *Service) publish(topic string, payload []byte) {
	if s.pub == nil {
		return
	}
	if err := s.pub.Publish(topic, payload, false, 1); err != nil {
		s.cfg.Logger.Warn("shadow reply not published", "topic", topic, "error", err)
	}
}

func opName(op shadow.Op) string {
	switch op {
	case shadow.OpGet:
		return "get"
	case shadow.OpUpdate:
		return "update"
	}
	return "delete"
}

// asShadowError turns err into the rejection a device hears: the shadow
// package's own, or AWS's 500 for the registry failing.
func asShadowError(err error) *shadow.Error {
	var se *shadow.Error
	if errors.As(err, &se) {
		return se
	}
	return &shadow.Error{Code: 500, Message: "Internal service failure"}
}
