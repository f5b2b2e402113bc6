package bench

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// keeper keeps one connection alive from its CONNACK on, as a device does:
// it sends a PINGREQ whenever the client has sent nothing for half its
// keep-alive [MQTT-3.1.2-23], reads the PINGRESPs, and sees at once when
// the server closes the connection. A server closes a client silent for
// 1.5 times its keep-alive [MQTT-3.1.2-24]: a generator that pinged only
// once every connection was made lost its first connections whenever
// connecting took longer than that (issue 11: 1,178 of 1,488 in a 91 s
// connect phase at the file-descriptor limit).
//
// The connection is the keeper's from startKeeper until signalStop and the
// end of run (done); then it is the caller's again.
type keeper struct {
	c         *Conn
	keepAlive time.Duration
	stopping  atomic.Bool
	done      chan struct{}

	// Written by run, read after done is closed.
	pending int   // PINGREQs sent whose PINGRESP is unread
	err     error // why the connection was lost; nil while it lives
}

// startKeeper starts keeping c alive; c has just received its CONNACK.
func startKeeper(c *Conn) *keeper {
	k := &keeper{c: c, keepAlive: time.Duration(c.keepalive) * time.Second, done: make(chan struct{})}
	go k.run()
	return k
}

// signalStop asks the keeper to stop, without waiting: a read deadline in
// the past ends the wait it is in.
func (k *keeper) signalStop() {
	k.stopping.Store(true)
	_ = k.c.SetReadDeadline(time.Unix(1, 0))
}

// run waits for packets, one byte ahead (Peek) so that a deadline never
// passes in the middle of a packet and loses its framing, and pings when
// the keep-alive asks for it.
func (k *keeper) run() {
	defer close(k.done)
	interval := k.keepAlive / 2
	if interval == 0 { // none asked (--keepalive under 1s): servers take none (MQTT) or their longest (AWS: 20 min)
		interval = DefaultKeepAlive / 2
	}
	// waiting is when the server was last expected to answer: the first
	// unanswered PINGREQ, or its last PINGRESP while others are unanswered.
	var waiting time.Time
	for {
		deadline := k.c.sent.Add(interval)
		if k.pending > 0 {
			deadline = minTime(deadline, waiting.Add(k.c.timeout))
		}
		_ = k.c.SetReadDeadline(deadline)
		if k.stopping.Load() { // after the deadline is set: signalStop's cannot be overwritten unseen
			return
		}
		_, err := k.c.r.Peek(1)
		if k.stopping.Load() {
			return
		}
		switch {
		case isTimeout(err):
			now := time.Now()
			if k.pending > 0 && !now.Before(waiting.Add(k.c.timeout)) {
				k.err = fmt.Errorf("%w (%s)", errNoPingresp, k.c.timeout)
				return
			}
			if now.Before(k.c.sent.Add(interval)) {
				continue
			}
			last := k.c.sent
			if err := k.c.Ping(); err != nil {
				k.err = k.lost(fmt.Errorf("send PINGREQ: %w", err), last)
				return
			}
			if k.pending == 0 {
				waiting = now
			}
			k.pending++
			continue
		case err != nil:
			k.err = k.lost(err, k.c.sent)
			return
		}
		// A packet has begun: the rest follows at once, or the server is
		// too slow anyway.
		_ = k.c.SetReadDeadline(time.Now().Add(k.c.timeout))
		p, err := k.c.ReadPacket()
		switch {
		case err != nil && k.stopping.Load() && isTimeout(err):
			k.err = fmt.Errorf("stopped in the middle of a packet: %w", err) // its framing is lost
			return
		case err != nil:
			k.err = k.lost(err, k.c.sent)
			return
		case p.Type == packets.Disconnect:
			k.err = k.lost(errServerDisconnect, k.c.sent)
			return
		case p.Type == packets.Pingresp && k.pending > 0:
			k.pending--
			waiting = time.Now()
		}
	}
}

// check pings once more and reads every PINGRESP still due: nil if the
// connection is alive. The keeper must have stopped.
func (k *keeper) check() error {
	if k.err != nil {
		return k.err
	}
	last := k.c.sent
	if err := k.c.Ping(); err != nil {
		return k.lost(fmt.Errorf("send PINGREQ: %w", err), last)
	}
	for n := k.pending + 1; n > 0; n-- {
		if _, err := k.c.Await(packets.Pingresp, 0); err != nil {
			if isTimeout(err) {
				return fmt.Errorf("%w (%s): %w", errNoPingresp, k.c.timeout, err)
			}
			return k.lost(err, k.c.sent)
		}
	}
	return nil
}

// lost is err, the end of the connection, as a *closedError when the
// server closed it; the client last sent a packet at last.
func (k *keeper) lost(err error, last time.Time) error {
	if !isClosed(err) {
		return err
	}
	return &closedError{err: err, silent: time.Since(last), keepAlive: k.keepAlive}
}

// errNoPingresp is a PINGREQ the server did not answer in time.
var errNoPingresp = errors.New("no PINGRESP within the timeout")

// closedError is a connection the server closed while the client held it.
type closedError struct {
	err error
	// silent is how long the client had sent nothing when it saw the close.
	silent    time.Duration
	keepAlive time.Duration
}

// keepAliveExpired reports whether the client had been silent for its
// keep-alive, which it must not be [MQTT-3.1.2-23]: then that is surely why
// the server closed the connection. (A server may wait 1.5 times the
// keep-alive [MQTT-3.1.2-24], but mochi rounds that down to whole seconds:
// 1 s for a keep-alive of 1 s.)
func (e *closedError) keepAliveExpired() bool { return e.silent >= e.keepAlive }

func (e *closedError) Error() string {
	return fmt.Sprintf("closed by the server %s after the client's last packet (keep-alive %s): %v",
		e.silent.Round(time.Millisecond), e.keepAlive, e.err)
}

func (e *closedError) Unwrap() error { return e.err }

// isClosed reports whether err is the peer closing or resetting the
// connection.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, errServerDisconnect)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
