package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progressInterval is how often the bar is redrawn.
const progressInterval = 250 * time.Millisecond

// progress draws a one-line progress bar on a terminal from counters the
// workers bump. Methods on a nil *progress do nothing, so scenarios need
// not care whether there is a terminal.
type progress struct {
	w      io.Writer
	label  string
	total  int64         // the count to reach, or 0
	length time.Duration // the time to run when total is 0, or 0 (until stopped)
	unit   string
	start  time.Time

	done, failed atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

// startProgress starts redrawing a bar on w until finish; nil w means no
// bar. The bar fills as add reaches total or, with total 0, as time reaches
// length.
func startProgress(w io.Writer, label, unit string, total int64, length time.Duration) *progress {
	if w == nil {
		return nil
	}
	p := &progress{w: w, label: label, unit: unit, total: total, length: length, start: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				fmt.Fprint(p.w, p.line(time.Now()))
			}
		}
	}()
	return p
}

// add counts n operations done.
func (p *progress) add(n int64) {
	if p != nil {
		p.done.Add(n)
	}
}

// fail counts a failed operation.
func (p *progress) fail() {
	if p != nil {
		p.failed.Add(1)
	}
}

// finish stops redrawing and erases the bar.
func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	fmt.Fprint(p.w, "\r\x1b[K")
}

// line is the bar as of now: "\r" then the text, erasing the rest of the
// terminal line.
func (p *progress) line(now time.Time) string {
	const width = 30
	elapsed := now.Sub(p.start)
	done, failed := p.done.Load(), p.failed.Load()
	frac, count := -1.0, ""
	switch {
	case p.total > 0:
		frac = float64(done+failed) / float64(p.total)
		count = fmt.Sprintf("%d/%d", done, p.total)
	case p.length > 0:
		frac = float64(elapsed) / float64(p.length)
		count = fmt.Sprintf("%d", done)
	default:
		count = fmt.Sprintf("%d", done)
	}
	var b strings.Builder
	b.WriteString("\r")
	b.WriteString(p.label)
	if frac >= 0 {
		frac = min(frac, 1)
		n := int(frac * width)
		fmt.Fprintf(&b, " [%s%s] %3.0f%%", strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100)
	}
	fmt.Fprintf(&b, "  %s %s  %.0f/s  %s", count, p.unit, float64(done)/max(elapsed.Seconds(), 1e-3), elapsed.Truncate(100*time.Millisecond))
	if failed > 0 {
		fmt.Fprintf(&b, "  %d failed", failed)
	}
	b.WriteString("\x1b[K")
	return b.String()
}
