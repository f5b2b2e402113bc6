package functions

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"
)

// The protocol between iotcore and a runtime process, apart from the
// function's standard output and error (its log): iotcore writes requests
// to the process's fd 3 and reads responses from its fd 4, one line of
// JSON each. The process answers {"ready":true} once its handler is
// imported (or {"error":…} and exits), then one response per request.

// maxPayload is Lambda's limit on a synchronous invocation's request and
// response payloads, 6 MB.
const maxPayload = 6 << 20

// initTimeout bounds a process's start-up (spawning the interpreter and
// importing the handler), as Lambda bounds its Init phase to 10 seconds;
// the function's timeout starts after it.
const initTimeout = 10 * time.Second

// drainGrace is how long a process's pipes are read after it exited, for
// what it wrote last; its own children may keep them open longer.
const drainGrace = 200 * time.Millisecond

// maxLogLine bounds a line of a function's log; the rest is cut.
const maxLogLine = 64 << 10

// request is one invocation, as a runtime process reads it.
type request struct {
	ID         string          `json:"id"`
	ARN        string          `json:"arn"`
	DeadlineMs int64           `json:"deadlineMs"`
	Event      json.RawMessage `json:"event"`
}

// message is a line a runtime process writes to fd 4.
type message struct {
	Ready  bool            `json:"ready"`
	ID     string          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *runtimeError   `json:"error"`
	Fatal  bool            `json:"fatal"` // the process exits after it

	size int   // of the line; beyond maxPayload the line was dropped
	bad  error // the line is not such a message
}

// runtimeError is Lambda's error object, as both runtimes write it (Python
// names the trace stackTrace, Node trace).
type runtimeError struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	StackTrace   []string `json:"stackTrace"`
	Trace        []string `json:"trace"`
}

func (e *runtimeError) functionError() *FunctionError {
	trace := e.StackTrace
	if trace == nil {
		trace = e.Trace
	}
	return &FunctionError{Type: e.ErrorType, Message: e.ErrorMessage, Trace: trace}
}

// process is one runtime process of a function, kept warm between
// invocations; it serves one invocation at a time.
type process struct {
	fn       *function
	cmd      *exec.Cmd
	requests *os.File     // the process's fd 3, to write to
	msgs     chan message // from its fd 4; closed at the end of it
	exited   chan struct{}
	exitErr  error // cmd.Wait's; set before exited is closed

	mu      sync.Mutex
	callers [8]invocation // the latest, for tagging log lines; a ring
	next    int
}

// invocation is a request's id and who made it.
type invocation struct{ id, caller string }

// logMarker starts the line a runtime writes to its standard output and
// error before it calls the handler, followed by the request's id: the
// lines after it are that invocation's.
const logMarker = "\x00iotcore-request:"

// callerOf returns who made request id, if it is one of the latest.
func (p *process) callerOf(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, inv := range p.callers {
		if inv.id == id {
			return inv.caller
		}
	}
	return ""
}

// startProcess starts a runtime process for fn and the goroutines that
// read its pipes and wait for it; own registers the process with its
// owner and adds the goroutines to wg, or refuses it (the owner is
// closing), and then the process is killed.
func startProcess(interpreter, script string, fn *function, env []string, log *slog.Logger, own func(*process) (*sync.WaitGroup, bool)) (*process, error) {
	var files []*os.File // every pipe end, for closing on failure
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		files = append(files, r, w)
		return r, w, err
	}
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	reqR, reqW, err1 := pipe()
	respR, respW, err2 := pipe()
	outR, outW, err3 := pipe()
	errR, errW, err4 := pipe()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		closeAll()
		return nil, fmt.Errorf("starting %s: %w", fn.name, err)
	}

	cmd := exec.Command(interpreter, script)
	cmd.Dir = fn.dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{reqR, respW} // fds 3 and 4
	isolate(cmd)
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, fmt.Errorf("starting %s: %w", fn.name, err)
	}
	// The child's ends are the child's alone now.
	for _, f := range []*os.File{reqR, respW, outW, errW} {
		_ = f.Close()
	}
	p := &process{
		fn:       fn,
		cmd:      cmd,
		requests: reqW,
		msgs:     make(chan message, 1),
		exited:   make(chan struct{}),
	}
	wg, ok := own(p)
	if !ok {
		killGroup(cmd)
		_ = cmd.Wait()
		for _, f := range []*os.File{reqW, respR, outR, errR} {
			_ = f.Close()
		}
		return nil, errClosed
	}
	wg.Add(4)
	go func() {
		defer wg.Done()
		p.exitErr = cmd.Wait()
		_ = reqW.Close()
		// Read what is left in the pipes, then give up on them: the
		// function's own children may hold them open.
		deadline := time.Now().Add(drainGrace)
		for _, f := range []*os.File{respR, outR, errR} {
			_ = f.SetReadDeadline(deadline)
		}
		close(p.exited)
	}()
	go func() {
		defer wg.Done()
		p.readMessages(respR)
	}()
	for _, s := range []struct {
		f    *os.File
		name string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		go func() {
			defer wg.Done()
			p.logLines(s.f, s.name, log)
		}()
	}
	return p, nil
}

// errClosed is what Invoke returns once Close has begun.
var errClosed = errors.New("the functions are closed")

// readMessages reads the process's fd 4 into p.msgs until it ends, and
// closes r.
func (p *process) readMessages(r *os.File) {
	defer close(p.msgs)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, n, err := readLine(br, maxPayload+4<<10)
		if err != nil {
			return
		}
		m := message{size: n}
		if line != nil {
			if err := json.Unmarshal(line, &m); err != nil {
				m.bad = err
			}
		}
		select {
		case p.msgs <- m:
		case <-p.exited:
			// The last word of a process that has exited: a caller
			// still waiting reads it before it reports the exit; with none,
			// it is dropped.
			t := time.NewTimer(drainGrace)
			select {
			case p.msgs <- m:
				t.Stop()
			case <-t.C:
				return
			}
		}
	}
}

// readLine returns the next line of r without its newline, and its length
// n; a line longer than limit is read to its end but returned as nil.
func readLine(r *bufio.Reader, limit int) (line []byte, n int, err error) {
	for {
		frag, err := r.ReadSlice('\n')
		n += len(frag)
		if n <= limit {
			line = append(line, frag...)
		} else {
			line = nil
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return nil, n, err
		}
		if line != nil {
			line = line[:len(line)-1]
		}
		return line, n - 1, nil
	}
}

// logLines logs each line the function writes to stream, tagged with the
// function and the invocation it belongs to (the latest marker's) and its
// caller, and closes r at its end.
func (p *process) logLines(r *os.File, stream string, log *slog.Logger) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 4<<10)
	var reqID, caller string
	emit := func(line []byte) {
		attrs := []slog.Attr{slog.String("function", p.fn.name)}
		if reqID != "" {
			attrs = append(attrs, slog.String("request_id", reqID))
		}
		if caller != "" {
			attrs = append(attrs, slog.String("caller", caller))
		}
		attrs = append(attrs, slog.String("stream", stream), slog.String("line", string(line)))
		log.LogAttrs(context.Background(), slog.LevelInfo, "function output", attrs...)
	}
	for {
		line, n, err := readLine(br, maxLogLine)
		if err != nil && n == 0 {
			return
		}
		switch i := bytes.Index(line, []byte(logMarker)); {
		case line == nil && n > 0:
			emit(fmt.Appendf(nil, "(a line of %d bytes, longer than %d, left out)", n, maxLogLine))
		case i >= 0:
			// What came before the marker ended without a newline.
			if i > 0 {
				emit(line[:i])
			}
			reqID = string(line[i+len(logMarker):])
			caller = p.callerOf(reqID)
		default:
			emit(line)
		}
		if err != nil {
			return
		}
	}
}

// kill ends the process and any its function started.
func (p *process) kill() { killGroup(p.cmd) }

// stop kills the process and waits until it has exited.
func (p *process) stop() {
	p.kill()
	<-p.exited
}

// dead reports whether the process has exited.
func (p *process) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitError is Lambda's error for a runtime that exited during an
// invocation.
func (p *process) exitError() *FunctionError {
	<-p.exited
	if p.exitErr == nil {
		return &FunctionError{Type: errExit, Message: "Runtime exited without providing a reason"}
	}
	return &FunctionError{Type: errExit, Message: "Runtime exited with error: " + p.exitErr.Error()}
}

// waitReady waits until the process has imported its handler. On an
// error the process is stopped.
func (p *process) waitReady(ctx context.Context) error {
	timer := time.NewTimer(initTimeout)
	defer timer.Stop()
	msgs, exited := p.msgs, p.exited
	for {
		select {
		case m, ok := <-msgs:
			switch {
			case !ok:
				if msgs = nil; exited == nil {
					return p.exitError()
				}
			case m.Ready:
				return nil
			case m.Error != nil:
				p.stop()
				return m.Error.functionError()
			default:
				p.stop()
				return &FunctionError{Type: errInvalidResult, Message: "the runtime sent something else than its ready signal"}
			}
		case <-exited:
			// What it wrote before it exited comes first.
			if exited = nil; msgs == nil {
				return p.exitError()
			}
		case <-timer.C:
			p.stop()
			return &FunctionError{Type: errTimeout, Message: fmt.Sprintf("Init timed out after %.2f seconds", initTimeout.Seconds())}
		case <-ctx.Done():
			p.stop()
			return ctx.Err()
		}
	}
}

// invoke runs one invocation. healthy is false when the process cannot
// serve another (it timed out, exited or was killed); it has then been
// stopped.
func (p *process) invoke(ctx context.Context, req request, timeout time.Duration, caller string) (result []byte, healthy bool, err error) {
	p.mu.Lock()
	p.callers[p.next] = invocation{req.ID, caller}
	p.next = (p.next + 1) % len(p.callers)
	p.mu.Unlock()

	start := time.Now()
	deadline := start.Add(timeout)
	req.DeadlineMs = deadline.UnixMilli()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, true, fmt.Errorf("encoding the request: %w", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	timedOut := func() error {
		p.stop()
		return &FunctionError{Type: errTimeout, Message: fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds())}
	}

	// The write blocks while the process reads a large event; the
	// timeout bounds it too.
	_ = p.requests.SetWriteDeadline(deadline)
	if _, err := p.requests.Write(append(line, '\n')); err != nil && !p.dead() {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, false, timedOut()
		}
		p.stop()
		return nil, false, fmt.Errorf("sending the request: %w", err)
	}
	msgs, exited := p.msgs, p.exited
	for {
		select {
		case m, ok := <-msgs:
			switch {
			case !ok:
				if msgs = nil; exited == nil {
					return nil, false, p.exitError()
				}
			case m.size > maxPayload+4<<10 || len(m.Result) > maxPayload:
				return nil, true, &FunctionError{Type: errResponseSize, Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxPayload)}
			case m.bad != nil:
				p.stop()
				return nil, false, &FunctionError{Type: errInvalidResult, Message: "the runtime's response is not JSON: " + m.bad.Error()}
			case m.Error != nil:
				if m.Fatal {
					p.stop()
				}
				return nil, !m.Fatal, m.Error.functionError()
			case m.ID != req.ID:
				p.stop()
				return nil, false, &FunctionError{Type: errInvalidResult, Message: fmt.Sprintf("the runtime answered request %q during %q", m.ID, req.ID)}
			case m.Result == nil:
				return []byte("null"), true, nil
			default:
				return m.Result, true, nil
			}
		case <-exited:
			// What it wrote before it exited comes first.
			if exited = nil; msgs == nil {
				return nil, false, p.exitError()
			}
		case <-timer.C:
			return nil, false, timedOut()
		case <-ctx.Done():
			p.stop()
			return nil, false, ctx.Err()
		}
	}
}
