package bench

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Defaults of PubSubConfig's zero values.
const (
	// DefaultPubSubTopic is each publisher's topic: under its own
	// certificate's CN, its thing name, as thing-scoped policies require.
	DefaultPubSubTopic = "{cn}/bench"
	// DefaultWindow is how many QoS 1 messages a publisher leaves without
	// PUBACK: AWS IoT's limit of unacknowledged inbound messages per client.
	DefaultWindow = 100
	// DefaultDrain is how long the subscribers may go without a message,
	// once publishing is over, before what has not arrived counts as lost.
	DefaultDrain = 5 * time.Second
	// MinPayload is the smallest payload: it carries its send time,
	// publisher and sequence number.
	MinPayload = 20
)

// PubSubConfig configures the pubsub scenario: Publishers connections
// publish to their topics at one QoS, Subscribers connections subscribe
// to one filter that matches every publisher's topic, and each message is
// timed from its publisher to each subscriber.
type PubSubConfig struct {
	Endpoint Endpoint
	// SubscriberAddr, if set, is where the subscribers connect (host:port
	// of another node of a cluster); "" means Endpoint.Addr.
	SubscriberAddr string
	// PublisherCerts are the publishers' identities: one that all share, or
	// one per publisher. Required.
	PublisherCerts []tls.Certificate
	// SubscriberCert is every subscriber's identity; its policy must allow
	// subscribing to Filter and receiving every publisher's topic. Required.
	SubscriberCert tls.Certificate
	// Publishers and Subscribers are how many connections of each; at least 1.
	Publishers, Subscribers int
	// QoS is 0 or 1, for publishing and subscribing alike.
	QoS byte
	// PayloadSize is each message's size in bytes, at least MinPayload.
	PayloadSize int
	// Messages, if positive, is how many messages each publisher sends;
	// otherwise they publish for Duration.
	Messages int
	Duration time.Duration
	// Rate, if positive, caps each publisher's messages per second;
	// otherwise they publish as fast as the server takes them.
	Rate float64
	// Window is how many QoS 1 messages a publisher leaves unacknowledged;
	// zero means DefaultWindow.
	Window int
	// ClientID names the connections; "" means DefaultClientID (roles p
	// and s).
	ClientID string
	// Topic is publisher i's topic; {cn} is its certificate's CN and {i}
	// its index. "" means DefaultPubSubTopic.
	Topic string
	// Filter is the subscribers' topic filter. "" means the publishers'
	// topic when they all share one, and otherwise Topic with each level
	// that holds a placeholder replaced by +.
	Filter string
	// Drain is how long subscribers may go without a message once the
	// publishers are done; zero means DefaultDrain.
	Drain time.Duration
	// Progress, if set, is a terminal to draw a progress bar on.
	Progress io.Writer
}

func (cfg *PubSubConfig) check() error {
	switch {
	case cfg.Publishers < 1 || cfg.Subscribers < 1:
		return fmt.Errorf("%d publishers and %d subscribers: want at least one of each", cfg.Publishers, cfg.Subscribers)
	case len(cfg.PublisherCerts) != 1 && len(cfg.PublisherCerts) != cfg.Publishers:
		return fmt.Errorf("%d publisher certificates for %d publishers: give one, or one each", len(cfg.PublisherCerts), cfg.Publishers)
	case cfg.QoS > 1:
		return fmt.Errorf("QoS %d: AWS IoT supports QoS 0 and 1", cfg.QoS)
	case cfg.PayloadSize < MinPayload:
		return fmt.Errorf("payload of %d bytes: at least %d carry the timestamp and sequence number", cfg.PayloadSize, MinPayload)
	case cfg.Messages <= 0 && cfg.Duration <= 0:
		return errors.New("give a message count or a duration")
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	cfg.Window = min(cfg.Window, 32768) // packet identifiers must not wrap onto unacknowledged ones
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultDrain
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultPubSubTopic
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if len(cfg.PublisherCerts) == 1 {
		if err := checkClientID(cfg.ClientID, cfg.Publishers); err != nil {
			return err
		}
	}
	return checkClientID(cfg.ClientID, cfg.Subscribers)
}

// RunPubSub runs the pubsub scenario. Ending ctx stops publishing early;
// the subscribers still drain. It fails, having run nothing, when a
// connection or subscription cannot be made: the identities or the
// policies are wrong.
func RunPubSub(ctx context.Context, cfg PubSubConfig) (*PubSubSummary, error) {
	cfg.Endpoint = cfg.Endpoint.withRecorder()
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("pubsub: %w", err)
	}
	opCtx := context.WithoutCancel(ctx)
	pubs, err := connectPublishers(opCtx, &cfg)
	defer func() {
		for _, p := range pubs {
			_ = p.c.Disconnect()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("pubsub: %w", err)
	}
	if cfg.Filter == "" {
		cfg.Filter = defaultFilter(cfg.Topic, pubs)
	}
	subs, err := connectSubscribers(opCtx, &cfg)
	defer func() {
		for _, s := range subs {
			_ = s.c.Disconnect()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("pubsub: %w", err)
	}

	s := &PubSubSummary{
		Run:          Run{Scenario: "pubsub", Endpoint: cfg.Endpoint.Addr},
		QoS:          cfg.QoS,
		Publishers:   cfg.Publishers,
		Subscribers:  cfg.Subscribers,
		PayloadBytes: cfg.PayloadSize,
		Topic:        pubs[0].topic,
		Filter:       cfg.Filter,
	}
	var fails failures
	bar := startProgress(cfg.Progress, fmt.Sprintf("pubsub qos%d", cfg.QoS), "delivered",
		int64(cfg.Messages)*int64(cfg.Publishers)*int64(cfg.Subscribers), cfg.Duration)

	epoch := time.Now()
	var subsDone sync.WaitGroup
	for _, sub := range subs {
		subsDone.Add(1)
		go func() {
			defer subsDone.Done()
			if err := sub.receive(epoch, cfg.Endpoint.keepAlive(), bar); err != nil {
				fails.add("subscriber", err)
				bar.fail()
			}
		}()
	}
	var deadline time.Time
	if cfg.Messages <= 0 {
		deadline = epoch.Add(cfg.Duration)
	}
	runWorkers(len(pubs), func(i int) {
		if err := pubs[i].publish(ctx, &cfg, epoch, deadline); err != nil {
			fails.add("publisher", err)
			bar.fail()
		}
	})
	publishEnd := time.Now()

	var published, unacked int64
	for _, p := range pubs {
		published += p.accepted()
		unacked += p.sent - p.accepted()
	}
	drain(subs, published, cfg.Drain)
	for _, sub := range subs {
		sub.stop()
	}
	subsDone.Wait()
	bar.finish()

	var (
		hists []histogram
		last  time.Duration
	)
	for _, sub := range subs {
		s.Delivered += sub.delivered.Load()
		s.Duplicates += sub.duplicates
		last = max(last, time.Duration(sub.last.Load()))
		hists = append(hists, sub.latency)
	}
	lastDelivery := epoch.Add(last)
	if last == 0 {
		lastDelivery = publishEnd
	}
	s.finish(epoch, lastDelivery, &fails, ctx.Err() != nil)
	s.TLS = cfg.Endpoint.report()
	s.Published, s.Unacknowledged = published, unacked
	s.Expected = published * int64(len(subs))
	s.Lost = max(s.Expected-s.Delivered, 0)
	if s.Expected > 0 {
		s.LossPercent = float64(s.Lost) * 100 / float64(s.Expected)
	}
	s.PublishSeconds = seconds(publishEnd.Sub(epoch))
	s.PublishRate = rate(published, publishEnd.Sub(epoch))
	s.DeliveryRate = rate(s.Delivered, lastDelivery.Sub(epoch))
	s.Latency = mergeLatency(hists)
	return s, nil
}

// defaultFilter is the publishers' topic if they share one, or else the
// topic template with each level that holds a placeholder made +.
func defaultFilter(tmpl string, pubs []*publisher) string {
	same := true
	for _, p := range pubs {
		same = same && p.topic == pubs[0].topic
	}
	if same {
		return pubs[0].topic
	}
	levels := strings.Split(tmpl, "/")
	for i, l := range levels {
		if strings.Contains(l, "{") {
			levels[i] = "+"
		}
	}
	return strings.Join(levels, "/")
}

// drain waits until every subscriber has received published messages, or
// until none has received anything for the drain time.
func drain(subs []*subscriber, published int64, quiet time.Duration) {
	const poll = 10 * time.Millisecond
	t := time.NewTicker(poll)
	defer t.Stop()
	var lastTotal int64 = -1
	lastChange := time.Now()
	for {
		var total int64
		complete := true
		for _, s := range subs {
			n := s.delivered.Load()
			total += n
			complete = complete && (n >= published || s.ended.Load())
		}
		if complete {
			return
		}
		if total != lastTotal {
			lastTotal, lastChange = total, time.Now()
		} else if time.Since(lastChange) >= quiet {
			return
		}
		<-t.C
	}
}

// The payload: its send time (nanoseconds since the run's epoch on the
// monotonic clock), its publisher and its sequence number, then filler.
func putPayload(b []byte, sent time.Duration, pub int, seq uint64) {
	binary.BigEndian.PutUint64(b[0:8], uint64(sent))
	binary.BigEndian.PutUint32(b[8:12], uint32(pub))
	binary.BigEndian.PutUint64(b[12:20], seq)
}

func parsePayload(b []byte) (sent time.Duration, pub int, seq uint64, ok bool) {
	if len(b) < MinPayload {
		return 0, 0, 0, false
	}
	return time.Duration(binary.BigEndian.Uint64(b[0:8])), int(binary.BigEndian.Uint32(b[8:12])), binary.BigEndian.Uint64(b[12:20]), true
}

// publisher is one publishing connection.
type publisher struct {
	c     *Conn
	index int
	topic string
	sent  int64 // written by publish only
	acked atomic.Int64
	qos   byte
}

// accepted is how many messages the server took: those sent at QoS 0,
// those acknowledged at QoS 1.
func (p *publisher) accepted() int64 {
	if p.qos == 0 {
		return p.sent
	}
	return p.acked.Load()
}

func connectPublishers(ctx context.Context, cfg *PubSubConfig) ([]*publisher, error) {
	pubs := make([]*publisher, 0, cfg.Publishers)
	for i := 0; i < cfg.Publishers; i++ {
		cert := cfg.PublisherCerts[min(i, len(cfg.PublisherCerts)-1)]
		id, err := clientID(cfg.ClientID, cert, "p", i)
		if err != nil {
			return pubs, err
		}
		cn, err := commonName(cert)
		if err != nil {
			return pubs, err
		}
		c, err := Dial(ctx, cfg.Endpoint, cfg.Endpoint.TLSConfig(cert))
		if err != nil {
			return pubs, fmt.Errorf("publisher %s: %w", id, err)
		}
		pubs = append(pubs, &publisher{c: c, index: i, topic: expand(cfg.Topic, cn, "p", i), qos: cfg.QoS})
		if err := c.Connect(id); err != nil {
			return pubs, fmt.Errorf("publisher %s: %w", id, err)
		}
	}
	return pubs, nil
}

// publish sends messages until the count or the deadline, or until ctx
// ends, then, at QoS 1, waits for the last acknowledgements.
func (p *publisher) publish(ctx context.Context, cfg *PubSubConfig, epoch, deadline time.Time) error {
	if p.qos == 0 {
		return p.send(ctx, cfg, epoch, deadline, nil, nil)
	}
	window := make(chan struct{}, cfg.Window)
	var final atomic.Int64
	final.Store(-1)
	finished := func() bool { f := final.Load(); return f >= 0 && p.acked.Load() >= f }
	readErr := make(chan error, 1)
	go func() { readErr <- p.readAcks(window, finished) }()

	err := p.send(ctx, cfg, epoch, deadline, window, readErr)
	final.Store(p.sent)
	if finished() {
		_ = p.c.SetReadDeadline(time.Now().Add(-time.Second)) // wake the reader: nothing more to come
	} else {
		_ = p.c.SetReadDeadline(time.Now().Add(p.c.timeout))
	}
	rerr := <-readErr
	switch {
	case errors.Is(err, errAcksStopped) || err == nil && rerr != nil:
		return fmt.Errorf("wait for PUBACK: %w", rerr)
	case err != nil:
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// errAcksStopped is a publisher that stopped because its PUBACKs did.
var errAcksStopped = errors.New("no more acknowledgements")

// send publishes; at QoS 1 each message first takes a place in window,
// which readAcks frees, and a failed reader (readErr) ends it.
func (p *publisher) send(ctx context.Context, cfg *PubSubConfig, epoch, deadline time.Time, window chan struct{}, readErr chan error) error {
	payload := make([]byte, cfg.PayloadSize)
	for i := MinPayload; i < len(payload); i++ {
		payload[i] = 'x'
	}
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
	var id uint16
	for seq := uint64(0); cfg.Messages <= 0 || seq < uint64(cfg.Messages); seq++ {
		if seq%64 == 0 && ctx.Err() != nil {
			break
		}
		if interval > 0 {
			if wait := time.Until(epoch.Add(time.Duration(seq) * interval)); wait > 0 {
				if err := p.c.Flush(); err != nil {
					return err
				}
				time.Sleep(wait)
			}
		}
		if window != nil {
			select {
			case window <- struct{}{}:
			default:
				if err := p.c.Flush(); err != nil {
					return err
				}
				select {
				case window <- struct{}{}:
				case err := <-readErr:
					readErr <- err // for publish to report
					return errAcksStopped
				}
			}
			if id++; id == 0 {
				id = 1 // [MQTT-2.3.1-1]
			}
		}
		now := time.Since(epoch)
		if !deadline.IsZero() && now >= deadline.Sub(epoch) {
			if window != nil {
				<-window
			}
			break
		}
		putPayload(payload, now, p.index, seq)
		if err := p.c.Publish(p.topic, p.qos, id, payload); err != nil {
			return err
		}
		p.sent++
	}
	return p.c.Flush()
}

// readAcks counts PUBACKs, freeing their places in window, until finished
// says all are in (nil) or the connection fails.
func (p *publisher) readAcks(window chan struct{}, finished func() bool) error {
	for {
		pk, err := p.c.ReadPacket()
		if err != nil {
			if finished() {
				return nil
			}
			return err
		}
		if pk.Type == packets.Disconnect {
			return errServerDisconnect
		}
		if pk.Type != packets.Puback {
			continue
		}
		p.acked.Add(1)
		select {
		case <-window:
		default: // a PUBACK for nothing we sent
		}
		if finished() {
			return nil
		}
	}
}

// subscriber is one subscribed connection.
type subscriber struct {
	c          *Conn
	latency    histogram
	seen       [][]uint64 // by publisher, a bit per sequence number
	duplicates int64
	delivered  atomic.Int64 // distinct messages
	last       atomic.Int64 // when the last one arrived, since the epoch
	stopping   atomic.Bool
	ended      atomic.Bool // receive returned
	wmu        sync.Mutex  // receive's acknowledgements and its pings
}

func connectSubscribers(ctx context.Context, cfg *PubSubConfig) ([]*subscriber, error) {
	ids, err := clientIDs(cfg.ClientID, cfg.SubscriberCert, "s", cfg.Subscribers)
	if err != nil {
		return nil, err
	}
	tlsConfig := cfg.Endpoint.TLSConfig(cfg.SubscriberCert)
	endpoint := cfg.Endpoint
	if cfg.SubscriberAddr != "" {
		endpoint.Addr = cfg.SubscriberAddr
	}
	subs := make([]*subscriber, 0, cfg.Subscribers)
	for _, id := range ids {
		c, err := Dial(ctx, endpoint, tlsConfig)
		if err != nil {
			return subs, fmt.Errorf("subscriber %s: %w", id, err)
		}
		subs = append(subs, &subscriber{c: c, seen: make([][]uint64, cfg.Publishers)})
		if err := c.Connect(id); err != nil {
			return subs, fmt.Errorf("subscriber %s: %w", id, err)
		}
		code, err := c.Subscribe(1, cfg.Filter, cfg.QoS)
		switch {
		case err != nil:
			return subs, fmt.Errorf("subscriber %s: subscribe to %s: %w", id, cfg.Filter, err)
		case code == 0x80: // [MQTT-3.9.3]
			return subs, fmt.Errorf("subscriber %s: the server refused the filter %s (does its policy allow iot:Subscribe on it?)", id, cfg.Filter)
		case code != cfg.QoS:
			return subs, fmt.Errorf("subscriber %s: asked for QoS %d on %s, granted %d", id, cfg.QoS, cfg.Filter, code)
		}
	}
	return subs, nil
}

// receive reads messages until stop, acknowledging QoS 1 ones, while a
// goroutine it owns pings the server every half keep-alive (a subscriber
// that only reads would otherwise be disconnected). It sets no read
// deadline: one that passed in the middle of a packet would lose its
// framing.
func (s *subscriber) receive(epoch time.Time, keepalive uint16, bar *progress) error {
	defer s.ended.Store(true)
	stopPings := make(chan struct{})
	pingsDone := make(chan struct{})
	go func() {
		defer close(pingsDone)
		t := time.NewTicker(time.Duration(keepalive) * time.Second / 2)
		defer t.Stop()
		for {
			select {
			case <-stopPings:
				return
			case <-t.C:
				s.wmu.Lock()
				_ = s.c.Ping() // a broken connection is the reader's to report
				s.wmu.Unlock()
			}
		}
	}()
	defer func() {
		close(stopPings)
		<-pingsDone
	}()
	for {
		pk, err := s.c.ReadPacket()
		now := time.Since(epoch)
		if err != nil {
			if s.stopping.Load() {
				return nil
			}
			return err
		}
		if pk.Type == packets.Disconnect {
			return errServerDisconnect
		}
		if pk.Type != packets.Publish {
			continue
		}
		if pk.QoS() == 1 {
			s.wmu.Lock()
			err = s.c.Puback(pk.ID)
			if err == nil && !s.c.ReadBuffered() {
				err = s.c.Flush() // acknowledge in batches, as fast as messages come
			}
			s.wmu.Unlock()
			if err != nil {
				return err
			}
		}
		sent, pub, seq, ok := parsePayload(pk.Payload)
		if !ok || pub >= len(s.seen) {
			continue // not ours
		}
		if s.mark(pub, seq) {
			s.duplicates++
			continue
		}
		s.latency.record(now - sent)
		s.delivered.Add(1)
		s.last.Store(int64(now))
		bar.add(1)
	}
}

// mark records a message and reports whether it had been seen before.
func (s *subscriber) mark(pub int, seq uint64) bool {
	word, bit := seq/64, uint64(1)<<(seq%64)
	if need := int(word) + 1; len(s.seen[pub]) < need {
		s.seen[pub] = append(s.seen[pub], make([]uint64, need-len(s.seen[pub]))...)
	}
	dup := s.seen[pub][word]&bit != 0
	s.seen[pub][word] |= bit
	return dup
}

// stop ends receive.
func (s *subscriber) stop() {
	s.stopping.Store(true)
	_ = s.c.SetReadDeadline(time.Now().Add(-time.Second))
}
