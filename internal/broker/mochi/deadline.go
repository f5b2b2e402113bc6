package mochi

import "time"

// SetDeadline sets the read and write deadlines, unless t is later than the
// last one set by less than a thirty-second of the time left until t.
//
// mochi pushes the connection's deadline back by 1.5 keep-alives on every
// packet it reads: a lock and two runtime timers changed per message. Left
// where it was when it would move by so little, the deadline cuts a silent
// device at most 3% early: after 43.6 s instead of 45 with AWS's minimum
// keep-alive of 30 s. Only mochi calls it, from the connection's goroutine;
// the broker's own deadlines go to the TCP connection (rawConn).
func (c *conn) SetDeadline(t time.Time) error {
	if last := c.deadline; !t.IsZero() && !last.IsZero() && !t.Before(last) && t.Sub(last) < time.Until(t)/32 {
		return nil
	}
	c.deadline = t
	return c.Conn.SetDeadline(t)
}
