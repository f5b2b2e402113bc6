package mochi

import (
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// Flow control: holding a publisher back instead of dropping its messages.
//
// mochi hands each delivery to the subscriber's outbound queue (Config.
// OutboundQueue packets) from the publisher's goroutine, and drops it when
// the queue is full; it drops QoS 1 deliveries when the subscriber already
// has maximumInflight unacknowledged. Publishers outrun a subscriber's
// writer as soon as they are more than it, even on loopback: on two cores,
// four publishers left one subscriber 40% of their messages.
//
// So before a delivery is queued (in OnACLCheck, on the publisher's
// goroutine), the broker waits while the subscriber's queue or its QoS 1
// window is three-quarters full, until they are half empty. The publisher
// stops reading, TCP pushes back, and the devices slow to what the
// subscriber takes: nothing is lost. A subscriber that stops taking
// messages — no write completed and no PUBACK received for
// Config.StallTimeout — holds no one back any longer: what does not fit in
// its queue is dropped and counted, as before. See docs/aws-differences.md.
//
// A delivery to a device whose own goroutine is the one delivering (it
// publishes to a topic it subscribes to, or to a device publishing back to
// it) waits only for its queue, never for its PUBACKs: that goroutine is
// the one that would read them. mochi's inflight quota (maximumInflight)
// then bounds what it holds, and drops the rest, counted.

// flow is one connection's outbound flow state.
type flow struct {
	// progress counts PUBLISH packets written and PUBACKs received: while
	// it moves, the subscriber is being served.
	progress atomic.Uint64
	// stalledAt is 1 + progress when a wait for the subscriber was given up
	// on; 0 when none was. Until progress moves, no one waits for it again.
	stalledAt atomic.Uint64

	waiting atomic.Bool
	mu      sync.Mutex
	room    chan struct{} // closed when room frees up; nil when no one waits
}

// flowLimits are the thresholds of one broker's flow control.
type flowLimits struct {
	queueHigh, queueLow       int // outbound queue: wait at high, wake at low
	inflightHigh, inflightLow int // unacknowledged QoS 1 deliveries
	stall                     time.Duration
}

func newFlowLimits(outboundQueue int, stall time.Duration) flowLimits {
	return flowLimits{
		queueHigh:    max(1, outboundQueue*3/4),
		queueLow:     outboundQueue / 2,
		inflightHigh: max(1, maximumInflight*3/4),
		inflightLow:  maximumInflight / 2,
		stall:        stall,
	}
}

// full reports whether a delivery to cl must wait: its queue is nearly
// full, or its QoS 1 window is and acks can free it.
func (l flowLimits) full(cl *mqtt.Client, acks bool) bool {
	return outboundLen(cl) >= l.queueHigh || acks && cl.State.Inflight.Len() >= l.inflightHigh
}

// awaitRoom waits until a delivery to cl fits, and reports whether it had
// to wait and whether it gave up on a stalled subscriber. acks says whether
// cl's PUBACKs can be read meanwhile: not while cl's own goroutine is the
// one delivering (a device subscribed to what it publishes, or two devices
// publishing to each other), which would wait for itself.
func (l flowLimits) awaitRoom(f *flow, cl *mqtt.Client, acks bool) (held, stalled bool) {
	if l.stall <= 0 || !l.full(cl, acks) {
		return false, false
	}
	last := f.progress.Load()
	if f.stalledAt.Load() == last+1 {
		return false, false // still stalled: mochi drops what does not fit
	}
	timer := time.NewTimer(l.stall)
	defer timer.Stop()
	for {
		room := f.wait()
		if !l.full(cl, acks) || cl.Closed() {
			return true, false
		}
		select {
		case <-room:
		case <-timer.C:
			p := f.progress.Load()
			if p == last {
				f.stalledAt.Store(p + 1)
				return true, true
			}
			last = p
			timer.Reset(l.stall)
		}
	}
}

// wait returns the channel the next wake-up closes.
func (f *flow) wait() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.room == nil {
		f.room = make(chan struct{})
	}
	f.waiting.Store(true)
	return f.room
}

// wake releases the publishers waiting for room, if any.
func (f *flow) wake() {
	if !f.waiting.Load() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.room != nil {
		close(f.room)
		f.room = nil
	}
	f.waiting.Store(false)
}

// dequeued records a PUBLISH mochi took from cl's outbound queue to write.
func (f *flow) dequeued(l flowLimits, cl *mqtt.Client) {
	f.progress.Add(1)
	if outboundLen(cl) <= l.queueLow {
		f.wake()
	}
}

// acked records a PUBACK from the subscriber; inflight is how many QoS 1
// deliveries it still has unacknowledged.
func (f *flow) acked(l flowLimits, inflight int) {
	f.progress.Add(1)
	if inflight <= l.inflightLow {
		f.wake()
	}
}
