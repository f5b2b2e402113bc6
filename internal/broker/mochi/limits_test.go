package mochi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/broker"
)

// fakeClock is the rate limits' clock in tests: it moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func withClock(c *fakeClock) func(*Config) { return func(cfg *Config) { cfg.Now = c.Now } }

// syncBuffer is a log destination tests can read while the broker writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func withLog(b *syncBuffer) func(*Config) {
	return func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(b, nil)) }
}

// levels is a topic of n levels.
func levels(n int) string { return strings.TrimSuffix(strings.Repeat("l/", n), "/") }

func TestClientIDLength(t *testing.T) {
	for _, tt := range []struct {
		version byte
		refused byte
	}{{4, 2}, {5, 0x85}} {
		t.Run(fmt.Sprintf("mqtt%d", tt.version), func(t *testing.T) {
			var log syncBuffer
			e := newEnv(t, withLog(&log))
			ok := e.dialRaw("device", tt.version)
			ok.mustConnect(strings.Repeat("c", DefaultMaxClientIDLength))
			ok.roundTrip()

			c := e.dialRaw("device", tt.version)
			if code := c.connackCode(strings.Repeat("c", DefaultMaxClientIDLength+1)); code != tt.refused {
				t.Errorf("CONNACK %#x, want %#x", code, tt.refused)
			}
			c.expectClosed()
			if n := e.gate.requestCount(); n != 1 {
				t.Errorf("the gate was asked %d times, want once (the 128-byte id)", n)
			}
			if got := e.b.Stats().ClientIDRejected; got != 1 {
				t.Errorf("Stats().ClientIDRejected = %d, want 1", got)
			}
			waitFor(t, "the refusal logged", func() bool { return strings.Contains(log.String(), "client id too long") })
		})
	}
}

func TestPublishTopicLimits(t *testing.T) {
	long := strings.Repeat("t", DefaultMaxTopicLength)
	tests := []struct {
		name  string
		topic string
		ok    bool
	}{
		{"256 bytes", long, true},
		{"257 bytes", long + "x", false},
		{"8 levels", levels(8), true},
		{"9 levels", levels(9), false},
		{"basic ingest prefix not counted", "$aws/rules/rule/" + long[:len(long)-len(levels(7))-1] + "/" + levels(7), true},
		{"basic ingest, 9 levels after the prefix", "$aws/rules/rule/" + levels(9), false},
	}
	for _, tt := range tests {
		for _, v := range []byte{4, 5} {
			for _, qos := range []byte{0, 1} {
				t.Run(fmt.Sprintf("%s/mqtt%d/qos%d", tt.name, v, qos), func(t *testing.T) {
					r := &fakeRules{prefix: "wanted-by-no-test/"}
					e := newEnv(t, withRules(r))
					e.gate.allowAll("pub")
					w := e.watcher("w", "#")
					p := e.dialRaw("device", v)
					p.mustConnect("pub")
					p.publish(tt.topic, "x", qos, false, 1)
					switch {
					case tt.ok:
						if qos == 1 {
							if ack := p.expect(packets.Puback); ack.ReasonCode != 0 {
								t.Fatalf("PUBACK %#x, want 0", ack.ReasonCode)
							}
						}
						if strings.HasPrefix(tt.topic, "$aws/rules/") { // Basic Ingest: for the rules alone
							waitFor(t, "the message handed to the rules", func() bool { return len(r.messages()) == 1 })
						} else {
							w.expectOnly(tt.topic, "x")
						}
						p.roundTrip()
						return
					case v == 5 && qos == 1:
						// Refused, the connection kept.
						if ack := p.expect(packets.Puback); ack.ReasonCode != packets.ErrTopicNameInvalid.Code {
							t.Errorf("PUBACK %#x, want 0x90", ack.ReasonCode)
						}
						p.roundTrip()
					case v == 5:
						if d := p.expect(packets.Disconnect); d.ReasonCode != packets.ErrTopicNameInvalid.Code {
							t.Errorf("DISCONNECT %#x, want 0x90", d.ReasonCode)
						}
						p.expectClosed()
					default:
						p.expectClosed()
					}
					e.server(t, "marker", "m")
					w.expectOnly("marker", "m")
					if n := len(r.messages()); n != 0 {
						t.Errorf("a refused publish reached the rules (%d)", n)
					}
					if got := e.b.Stats().TopicRejected; got != 1 {
						t.Errorf("Stats().TopicRejected = %d, want 1", got)
					}
				})
			}
		}
	}
}

// Limits can be turned off.
func TestTopicLimitsOff(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxTopicLength, c.MaxTopicLevels = -1, -1 })
	e.gate.allowAll("pub")
	topic := levels(40) + strings.Repeat("x", 300)
	w := e.watcher("w", "#")
	p := e.dialRaw("device", 5)
	p.mustConnect("pub")
	p.publish(topic, "x", 1, false, 1)
	if ack := p.expect(packets.Puback); ack.ReasonCode != 0 {
		t.Fatalf("PUBACK %#x, want 0", ack.ReasonCode)
	}
	w.expectOnly(topic, "x")
}

func TestWillTopicLimits(t *testing.T) {
	e := newEnv(t)
	w := e.watcher("watcher", "#")
	e.gate.allow("dev", broker.Publish, "*")
	d := e.dialRaw("device", 4)
	d.mustConnect("dev", withWill(levels(9), false))
	_ = d.c.Close() // no DISCONNECT: the will is due
	waitFor(t, "the session closed", func() bool { return e.gate.session("dev", 0).wasClosed() })
	e.server(t, "marker", "m")
	w.expectOnly("marker", "m") // and not the will
	if got := e.b.Stats().TopicRejected; got != 1 {
		t.Errorf("Stats().TopicRejected = %d, want 1", got)
	}
}

func TestSubscribeFilterLimits(t *testing.T) {
	long := strings.Repeat("f", DefaultMaxTopicLength)
	filters := []string{
		long,                        // ok
		long + "x",                  // too long
		levels(7) + "/#",            // 8 levels: ok
		levels(8) + "/+",            // 9 levels
		"$share/group/" + levels(8), // the shared-subscription prefix is not counted
	}
	for _, tt := range []struct {
		version byte
		want    []byte
	}{
		{4, []byte{1, 0x80, 1, 0x80, 1}},
		{5, []byte{1, 0x8F, 1, 0x8F, 1}},
	} {
		t.Run(fmt.Sprintf("mqtt%d", tt.version), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("sub")
			s := e.dialRaw("device", tt.version)
			s.mustConnect("sub")
			if got := s.subscribe(1, filters...); !slices.Equal(got, tt.want) {
				t.Errorf("SUBACK %#x, want %#x", got, tt.want)
			}
			s.roundTrip()
			if got := e.b.Stats(); got.FilterRejected != 2 || got.SubscribeDenied != 0 {
				t.Errorf("Stats() FilterRejected %d SubscribeDenied %d, want 2 and 0", got.FilterRejected, got.SubscribeDenied)
			}
		})
	}
}

func TestFiltersPerSubscribe(t *testing.T) {
	for _, tt := range []struct {
		version byte
		refused byte
	}{{4, 0x80}, {5, 0x97}} {
		t.Run(fmt.Sprintf("mqtt%d", tt.version), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("sub")
			s := e.dialRaw("device", tt.version)
			s.mustConnect("sub")
			filters := func(prefix string, n int) []string {
				var fs []string
				for i := range n {
					fs = append(fs, fmt.Sprintf("%s/%d", prefix, i))
				}
				return fs
			}
			if got := s.subscribe(1, filters("a", DefaultMaxFiltersPerSubscribe)...); !slices.Equal(got, bytes.Repeat([]byte{1}, DefaultMaxFiltersPerSubscribe)) {
				t.Errorf("SUBACK for %d filters: %#x, want all granted", DefaultMaxFiltersPerSubscribe, got)
			}
			n := DefaultMaxFiltersPerSubscribe + 1
			if got := s.subscribe(2, filters("b", n)...); !slices.Equal(got, bytes.Repeat([]byte{tt.refused}, n)) {
				t.Errorf("SUBACK for %d filters: %#x, want all %#x", n, got, tt.refused)
			}
			s.roundTrip() // still connected
			e.server(t, "b/0", "no")
			e.server(t, "a/0", "yes")
			s.expectOnly("a/0", "yes")
			if got := e.b.Stats().SubscribeLimited; got != int64(n) {
				t.Errorf("Stats().SubscribeLimited = %d, want %d", got, n)
			}
		})
	}
}

// A connection holds at most 50 subscriptions, those a resumed session
// inherited included; subscribing again to a filter held is not a new one.
func TestMaxSubscriptions(t *testing.T) {
	for _, tt := range []struct {
		version byte
		refused byte
	}{{4, 0x80}, {5, 0x97}} {
		t.Run(fmt.Sprintf("mqtt%d", tt.version), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("sub")
			s := e.dialRaw("device", tt.version)
			s.connect("sub", false, persistent)
			s.expect(packets.Connack)
			var held []string
			for i := 0; len(held) < DefaultMaxSubscriptions; i++ {
				var fs []string
				for j := 0; j < DefaultMaxFiltersPerSubscribe-1 && len(held)+len(fs) < DefaultMaxSubscriptions; j++ {
					fs = append(fs, fmt.Sprintf("s/%d", len(held)+len(fs)))
				}
				fs = append(fs, fs[0]) // a duplicate in the same SUBSCRIBE counts once
				for _, code := range s.subscribe(uint16(i+1), fs...) {
					if code != 1 {
						t.Fatalf("SUBACK %#x with %d subscriptions held", code, len(held))
					}
				}
				held = append(held, fs[:len(fs)-1]...)
			}

			// The session resumed on a new connection keeps its 50.
			_ = s.c.Close()
			waitFor(t, "the first session closed", func() bool { return e.gate.session("sub", 0).wasClosed() })
			s = e.dialRaw("device", tt.version)
			s.connect("sub", false, persistent)
			if ack := s.expect(packets.Connack); ack.ReasonCode != 0 || !ack.SessionPresent {
				t.Fatalf("CONNACK %#x, session present %v", ack.ReasonCode, ack.SessionPresent)
			}
			if got, want := s.subscribe(100, "s/50", held[0], "s/51"), []byte{tt.refused, 1, tt.refused}; !slices.Equal(got, want) {
				t.Errorf("SUBACK %#x, want %#x", got, want)
			}
			s.roundTrip()
			if got := e.b.Stats().SubscribeLimited; got != 2 {
				t.Errorf("Stats().SubscribeLimited = %d, want 2", got)
			}
		})
	}
}

func TestConnectRate(t *testing.T) {
	for _, tt := range []struct {
		version byte
		refused byte
	}{{4, 3}, {5, 0x9F}} {
		t.Run(fmt.Sprintf("mqtt%d", tt.version), func(t *testing.T) {
			clock := newFakeClock()
			var log syncBuffer
			e := newEnv(t, withClock(clock), withLog(&log))
			connect := func(cn, id string) byte {
				t.Helper()
				c := e.dialRaw(cn, tt.version)
				c.connect(id, true)
				pk, err := c.recv(waitTimeout)
				_ = c.c.Close()
				switch {
				case err != nil:
					return 0xFF // dropped
				case pk.FixedHeader.Type != packets.Connack:
					t.Fatalf("got %s", packets.PacketNames[pk.FixedHeader.Type])
				}
				return pk.ReasonCode
			}

			// Refused CONNECTs cost nothing: a stranger cannot lock the
			// device out by using its client id.
			e.gate.refuse("stranger", &broker.RefusedError{How: broker.Drop, Reason: "unknown certificate"})
			for range DefaultConnectBurst + 2 {
				if code := connect("stranger", "dev"); code != 0xFF {
					t.Fatalf("stranger: CONNACK %#x, want none", code)
				}
			}
			// A burst, then nothing until the clock moves.
			for i := range DefaultConnectBurst {
				if code := connect("device", "dev"); code != 0 {
					t.Fatalf("connect %d: CONNACK %#x, want 0", i+1, code)
				}
			}
			if code := connect("device", "dev"); code != tt.refused {
				t.Fatalf("connect %d: CONNACK %#x, want %#x", DefaultConnectBurst+1, code, tt.refused)
			}
			if code := connect("device", "other"); code != 0 {
				t.Errorf("another client id: CONNACK %#x, want 0", code)
			}
			clock.advance(time.Second) // one more, at AWS's rate of 1/s
			if code := connect("device", "dev"); code != 0 {
				t.Errorf("a second later: CONNACK %#x, want 0", code)
			}
			if code := connect("device", "dev"); code != tt.refused {
				t.Errorf("again: CONNACK %#x, want %#x", code, tt.refused)
			}
			if got := e.b.Stats().ConnectThrottled; got != 2 {
				t.Errorf("Stats().ConnectThrottled = %d, want 2", got)
			}
			waitFor(t, "the refusal logged", func() bool {
				return strings.Contains(log.String(), "client id connecting too often")
			})
		})
	}
}

// Each connection may publish and receive 100 messages per second in all;
// the rest are discarded, and the connection stays up.
func TestPublishRate(t *testing.T) {
	for _, tt := range []struct {
		version byte
		qos     byte
		puback  int // for a discarded message: -1 none
	}{{4, 0, -1}, {4, 1, -1}, {5, 0, -1}, {5, 1, 0x97}} {
		t.Run(fmt.Sprintf("mqtt%d/qos%d", tt.version, tt.qos), func(t *testing.T) {
			clock := newFakeClock()
			e := newEnv(t, withClock(clock))
			e.gate.allowAll("pub")
			w := e.watcher("w", "t/#", "marker")
			p := e.dialRaw("device", tt.version)
			p.mustConnect("pub")
			for i := range DefaultPublishRate + 1 {
				p.publish("t/in", fmt.Sprint(i), tt.qos, false, uint16(i+1))
				if tt.qos == 1 && (i < DefaultPublishRate || tt.puback >= 0) {
					ack := p.expect(packets.Puback)
					want := byte(0)
					if i == DefaultPublishRate {
						want = byte(tt.puback)
					}
					if ack.ReasonCode != want || ack.PacketID != uint16(i+1) {
						t.Fatalf("message %d: PUBACK %d %#x, want %d %#x", i, ack.PacketID, ack.ReasonCode, i+1, want)
					}
				}
			}
			p.roundTrip() // still connected, and no PUBACK came for the discarded message
			for i := range DefaultPublishRate {
				w.expectOnly("t/in", fmt.Sprint(i))
			}
			clock.advance(time.Second)
			p.publish("t/in", "later", 0, false, 0)
			w.expectOnly("t/in", "later") // and not the discarded one before it
			if got := e.b.Stats(); got.PublishThrottled != 1 || got.DeliveriesThrottled != 0 {
				t.Errorf("Stats() PublishThrottled %d DeliveriesThrottled %d, want 1 and 0", got.PublishThrottled, got.DeliveriesThrottled)
			}
		})
	}
}

// Deliveries count against the receiving connection's rate, and its own
// publishes with them.
func TestDeliveryRate(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, withClock(clock), func(c *Config) { c.PublishRate = 10 })
	e.gate.allowAll("dev")
	d := e.dialRaw("device", 5)
	d.mustConnect("dev")
	if codes := d.subscribe(1, "t/#"); codes[0] != 1 {
		t.Fatalf("SUBACK %#x", codes)
	}
	for i := range 11 {
		e.server(t, "t/out", fmt.Sprint(i))
	}
	for i := range 10 {
		d.expectOnly("t/out", fmt.Sprint(i))
	}
	// The eleventh was discarded: the device's own publish is too.
	d.publish("t/in", "mine", 1, false, 7)
	if ack := d.expect(packets.Puback); ack.ReasonCode != 0x97 {
		t.Errorf("PUBACK %#x, want 0x97", ack.ReasonCode)
	}
	clock.advance(time.Second)
	e.server(t, "t/out", "later")
	d.expectOnly("t/out", "later")
	if got := e.b.Stats(); got.DeliveriesThrottled != 1 || got.PublishThrottled != 1 {
		t.Errorf("Stats() DeliveriesThrottled %d PublishThrottled %d, want 1 and 1", got.DeliveriesThrottled, got.PublishThrottled)
	}
}

func TestMaxConnections(t *testing.T) {
	for _, tt := range []struct {
		version byte
		refused byte
	}{{4, 3}, {5, 0x97}} {
		t.Run(fmt.Sprintf("mqtt%d", tt.version), func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.MaxConnections = 2 })
			a := e.dialRaw("device", tt.version)
			a.mustConnect("a")
			b := e.dialRaw("device", tt.version)
			b.mustConnect("b")
			c := e.dialRaw("device", tt.version)
			if code := c.connackCode("c"); code != tt.refused {
				t.Errorf("third connection: CONNACK %#x, want %#x", code, tt.refused)
			}
			c.expectClosed()
			if got := e.b.Stats().ConnectionsLimited; got != 1 {
				t.Errorf("Stats().ConnectionsLimited = %d, want 1", got)
			}

			_ = a.c.Close()
			waitFor(t, "a's slot freed", func() bool { return e.b.slots.Load() == 1 })
			c = e.dialRaw("device", tt.version)
			c.mustConnect("c")
			c.roundTrip()
		})
	}
}

// A device silent for 1.5 times its keep-alive is disconnected; one that
// pings in time is not. (MinKeepAlive lowered from AWS's 30 seconds.)
func TestKeepAliveEnforced(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(fmt.Sprintf("mqtt%d", v), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) { c.MinKeepAlive = time.Second })
			keepalive := func(pk *packets.Packet) { pk.Connect.Keepalive = 2 } // cut after 3s

			pinger := e.dialRaw("device", v)
			pinger.mustConnect("pinger", keepalive)
			idle := e.dialRaw("device", v)
			idle.mustConnect("idle", keepalive)
			s := e.gate.session("idle", 0)
			// The pinger pings twice a second while the idle device is cut.
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			timeout := time.After(waitTimeout)
		wait:
			for {
				select {
				case <-tick.C:
					pinger.roundTrip()
				case <-s.closed:
					break wait
				case <-timeout:
					t.Fatalf("the idle device is still connected after %v", waitTimeout)
				}
			}
			idle.expectClosed()
			if s.info.Reason != broker.ReasonKeepAliveTimeout {
				t.Errorf("disconnect reason %q, want %q", s.info.Reason, broker.ReasonKeepAliveTimeout)
			}
			pinger.roundTrip()
			if e.gate.session("pinger", 0).wasClosed() {
				t.Error("the pinger was disconnected")
			}
		})
	}
}

// A slow client cannot hold a connection by trickling its TLS handshake or
// its CONNECT: each has one deadline, which activity does not extend.
func TestSlowClientCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newEnv(t, func(c *Config) { c.HandshakeTimeout, c.ConnectTimeout = timeout, timeout })
	trickle := func(t *testing.T, c net.Conn, data []byte) {
		t.Helper()
		start := time.Now()
		for _, b := range data {
			_ = c.SetWriteDeadline(time.Now().Add(waitTimeout))
			if _, err := c.Write([]byte{b}); err != nil {
				return // cut
			}
			// A byte every 100ms (a third of the deadline), waiting for the
			// close in between.
			_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				return // cut
			}
		}
		t.Fatalf("%d bytes trickled over %v and the connection is still open", len(data), time.Since(start))
	}

	t.Run("tls handshake", func(t *testing.T) {
		c, err := net.Dial("tcp", e.b.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A TLS record header announcing a 512-byte handshake message, then
		// its bytes one by one.
		trickle(t, c, append([]byte{0x16, 0x03, 0x01, 0x02, 0x00}, bytes.Repeat([]byte{1}, 512)...))
	})
	t.Run("connect", func(t *testing.T) {
		c := e.dialRaw("device", 5)
		pk := packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Connect},
			Connect:     packets.ConnectParams{ClientIdentifier: strings.Repeat("slow", 16), Clean: true, Keepalive: 60},
		}
		trickle(t, c.c, c.encode(pk))
		if _, asked := e.gate.lastRequest(); asked {
			t.Error("the gate was asked")
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// The connect limiter forgets the client ids whose buckets have refilled:
// its memory follows the recent CONNECTs, not every client id ever seen.
func TestConnectLimiterForgets(t *testing.T) {
	clock := newFakeClock()
	l := newConnectLimiter(DefaultConnectRate, DefaultConnectBurst)
	for i := range 2000 {
		l.take(fmt.Sprint("dev-", i), clock.Now())
	}
	if n := len(l.buckets); n < 2000 {
		t.Fatalf("%d buckets after 2000 fresh CONNECTs, want 2000", n)
	}
	clock.advance(time.Duration(DefaultConnectBurst/DefaultConnectRate) * time.Second)
	for i := range 2000 {
		l.take(fmt.Sprint("new-", i), clock.Now())
	}
	for i := range 2000 {
		if _, ok := l.buckets[fmt.Sprint("dev-", i)]; ok {
			t.Fatalf("dev-%d still remembered once its bucket refilled", i)
		}
	}
	if !l.allowed("dev-0", clock.Now()) {
		t.Error("a forgotten client id is refused")
	}
}
