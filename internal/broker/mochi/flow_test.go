package mochi

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/iottest"
)

// patientStall is the stall timeout of the tests whose subscribers never
// stall: long enough that a test goroutine descheduled on a loaded machine
// is not taken for a stalled subscriber.
const patientStall = waitTimeout

// A subscriber slower than its publisher, but reading, gets every message:
// the publisher is held back while the subscriber's outbound queue or QoS 1
// window is nearly full, instead of mochi dropping what does not fit.
func TestFlowControlHoldsPublisherForSubscriberThatReads(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.OutboundQueue = 8
		c.PublishRate = -1
		c.StallTimeout = patientStall
	})
	e.gate.allowAll("*")
	sub := e.dialRaw("device", 4)
	sub.mustConnect("reader")
	if codes := sub.subscribe(1, "flow/#"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}

	// More QoS 1 messages than mochi's inflight quota (maximumInflight)
	// and, many times over, than the outbound queue holds.
	const n = 3 * maximumInflight
	published := make(chan error, 1)
	go func() {
		for i := range n {
			if err := e.b.Publish("flow/"+strconv.Itoa(i%7), []byte(strconv.Itoa(i)), false, 1); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	for i := range n {
		pk := sub.nextPublish()
		if got := string(pk.Payload); got != strconv.Itoa(i) {
			t.Fatalf("message %d: got %q: lost or out of order (stats %+v)", i, got, e.b.Stats())
		}
	}
	if err := iottest.Receive(t, published, "the held publisher to be let through"); err != nil {
		t.Fatal(err)
	}
	s := e.b.Stats()
	if s.Dropped != 0 || s.InflightDropped != 0 {
		t.Errorf("dropped %d, inflight dropped %d: want none", s.Dropped, s.InflightDropped)
	}
	if s.PublishersHeld == 0 || s.Stalled != 0 {
		t.Errorf("publishers held %d times (want some), stalled %d (want 0)", s.PublishersHeld, s.Stalled)
	}
}

// A device publishing QoS 0 as fast as it can to one that reads loses
// nothing either: the broker stops reading the publisher.
func TestFlowControlBetweenDevices(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.OutboundQueue = 8
		c.PublishRate = -1
		c.StallTimeout = patientStall
	})
	e.gate.allowAll("*")
	sub := e.dialRaw("device", 5)
	sub.mustConnect("reader")
	if codes := sub.subscribe(1, "burst"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	pub := e.dialRaw("device", 4)
	pub.mustConnect("writer")
	const n = 5000
	var burst []byte
	for i := range n {
		burst = append(burst, pub.encode(packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Publish},
			TopicName:   "burst",
			Payload:     []byte(fmt.Sprintf("%08d", i)),
		})...)
	}
	go func() { _, _ = pub.c.Write(burst) }() // the broker may stop reading it
	for i := range n {
		pk := sub.nextPublish()
		if got, want := string(pk.Payload), fmt.Sprintf("%08d", i); got != want {
			t.Fatalf("message %d: got %q (stats %+v)", i, got, e.b.Stats())
		}
	}
	if s := e.b.Stats(); s.Dropped != 0 {
		t.Errorf("dropped %d: want none", s.Dropped)
	}
}

// A subscriber that stops reading holds its publisher back for
// StallTimeout once; after that what does not fit its queue is dropped and
// the publisher goes on at full speed, until the subscriber reads again.
func TestFlowControlGivesUpOnStalledSubscriber(t *testing.T) {
	const stall = 200 * time.Millisecond
	e := newEnv(t, func(c *Config) {
		c.OutboundQueue = 4
		c.PublishRate = -1
		c.StallTimeout = stall
	})
	e.gate.allowAll("*")
	deaf := e.dialRaw("device", 4)
	deaf.mustConnect("deaf")
	if codes := deaf.subscribe(1, "flood"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	// 32 MiB: more than the loopback socket buffers hold, so the broker's
	// writes to the deaf device block and its queue stays full.
	payload := make([]byte, 64*1024)
	for range 512 {
		if err := e.b.Publish("flood", payload, false, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Stalled once (a few times if the kernel took a little more between
	// waits), not once per dropped message.
	s := e.b.Stats()
	if s.Stalled < 1 || s.Dropped == 0 || s.Stalled > s.Dropped/10 {
		t.Errorf("stalled %d times (want a few), dropped %d (want many)", s.Stalled, s.Dropped)
	}
}

// A device subscribed to the topic it publishes to, at QoS 1 and faster
// than its PUBACKs come back, is not held back waiting for itself: its
// connection's goroutine, delivering its messages, is the one that would
// read those PUBACKs. What exceeds mochi's inflight quota meanwhile is
// dropped and counted (its limit, docs/benchmarks.md), but nothing stalls.
func TestFlowControlDeviceSubscribedToItself(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.PublishRate = -1
		c.StallTimeout = patientStall
	})
	e.gate.allowAll("*")
	loop := e.dialRaw("device", 4)
	loop.mustConnect("echo")
	if codes := loop.subscribe(1, "echo/#"); codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	const n = 2 * maximumInflight
	var burst []byte
	for i := range n {
		burst = append(burst, loop.encode(packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
			TopicName:   "echo/x",
			PacketID:    uint16(i + 1),
			Payload:     []byte(strconv.Itoa(i)),
		})...)
	}
	// The PUBACKs for the deliveries queue up behind the burst, as a
	// device's would behind its own publishes.
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = loop.c.Write(burst)
	}()
	var deliveries []uint16
	got, acks := 0, 0
	for acks < n || got+int(e.b.Stats().InflightDropped) < n {
		pk, err := loop.recv(waitTimeout)
		if err != nil {
			t.Fatalf("after %d deliveries and %d PUBACKs: %v (stats %+v)", got, acks, err, e.b.Stats())
		}
		switch pk.FixedHeader.Type {
		case packets.Puback:
			acks++
		case packets.Publish:
			got++
			deliveries = append(deliveries, pk.PacketID)
		}
		select {
		case <-wrote:
			for _, id := range deliveries {
				loop.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: id})
			}
			deliveries = deliveries[:0]
		default:
		}
	}
	if s := e.b.Stats(); s.Stalled != 0 {
		t.Errorf("stalled %d times: the device's goroutine waited for itself", s.Stalled)
	}
}
