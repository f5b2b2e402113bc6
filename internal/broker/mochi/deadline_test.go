package mochi

import (
	"net"
	"testing"
	"time"
)

type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (d *deadlineConn) SetDeadline(t time.Time) error {
	d.set = append(d.set, t)
	return nil
}

// mochi's keep-alive refresh on every packet reaches the connection only
// when the deadline moves by more than a thirty-second of what is left.
func TestKeepAliveDeadlineCoalesced(t *testing.T) {
	d := &deadlineConn{}
	c := &conn{Conn: d}
	now := time.Now()
	steps := []struct {
		t    time.Time
		sets bool
	}{
		{now.Add(45 * time.Second), true},                        // first
		{now.Add(45*time.Second + 100*time.Millisecond), false},  // 0.1 s later: kept
		{now.Add(45*time.Second + 1000*time.Millisecond), false}, // 1 s < 45 s / 32
		{now.Add(47 * time.Second), true},                        // 2 s later
		{now.Add(30 * time.Second), true},                        // earlier: always set
		{time.Time{}, true},                                      // none: always set
		{now.Add(100 * time.Second), true},                       // after none
		{now.Add(102 * time.Second), false},                      // 2 s < 100 s / 32
		{now.Add(106 * time.Second), true},                       // 6 s > 100 s / 32
	}
	for i, s := range steps {
		before := len(d.set)
		if err := c.SetDeadline(s.t); err != nil {
			t.Fatal(err)
		}
		if got := len(d.set) > before; got != s.sets {
			t.Errorf("step %d (%v from now): set %v, want %v", i, s.t.Sub(now), got, s.sets)
		}
	}
}
