package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

var _ Invoker = (*Local)(nil)

// LocalConfig configures Local.
type LocalConfig struct {
	// Dir is the functions directory: each subdirectory whose name does
	// not start with a dot is a function named after it.
	Dir string
	// Timeout is the per-invocation timeout of a function whose
	// function.json names none; 0 means AWS Lambda's default, 3 seconds.
	// As on Lambda, a process's start-up (spawning the interpreter and
	// importing the handler) is not counted.
	Timeout time.Duration
	// Env is given to every function on top of Lambda's own variables
	// (the server's credentials, region and endpoint); a function.json's
	// environment comes on top of it.
	Env map[string]string
	// Logger receives the functions' output, a record per line, and their
	// errors; nil discards them.
	Logger *slog.Logger
	// MaxWarm is how many processes are kept warm per function, and so
	// how many invocations of one function run at once; others wait for
	// one to be free. 0 means 4.
	MaxWarm int
	// Python and Node are the interpreters' paths; "" means python3 and
	// node, looked up in PATH.
	Python, Node string
}

// defaultTimeout is AWS Lambda's default function timeout.
const defaultTimeout = 3 * time.Second

// Local runs the functions of a directory the way AWS Lambda runs them:
// each in warm runtime processes of its own (python3 or node), started
// on demand and reused between invocations, one per concurrent invocation,
// with Lambda's event, context, environment, timeout and error shapes.
type Local struct {
	cfg        LocalConfig
	log        *slog.Logger
	runtimeDir string
	interp     map[family]string
	funcs      map[string]*pool

	mu     sync.Mutex
	closed bool
	procs  map[*process]struct{}
	wg     sync.WaitGroup // every process's goroutines
}

// pool is one function's warm processes.
type pool struct {
	fn    *function
	env   map[string]string // but the per-process log stream
	slots chan struct{}     // one per invocation in flight

	mu   sync.Mutex
	idle []*process
}

// OpenLocal finds the functions of cfg.Dir. It fails when the directory
// is missing, when a function's directory has no handler it recognizes or
// a function.json it cannot read, or when an interpreter the functions
// need is not there. No process starts before the first invocation.
func OpenLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Dir == "" {
		return nil, errors.New("open functions: no directory")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("open functions: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open functions: %w", err)
	}
	l := &Local{
		cfg:    cfg,
		log:    cfg.Logger,
		interp: map[family]string{python: cfg.Python, node: cfg.Node},
		funcs:  make(map[string]*pool),
		procs:  make(map[*process]struct{}),
	}
	if l.log == nil {
		l.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if l.interp[python] == "" {
		l.interp[python] = "python3"
	}
	if l.interp[node] == "" {
		l.interp[node] = "node"
	}
	if l.cfg.MaxWarm <= 0 {
		l.cfg.MaxWarm = 4
	}
	if l.cfg.Timeout <= 0 {
		l.cfg.Timeout = defaultTimeout
	}
	var fns []*function
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if st, err := os.Stat(path); err != nil || !st.IsDir() {
			continue // a file beside the functions, or a broken link
		}
		fn, err := loadFunction(path, e.Name())
		if err != nil {
			return nil, fmt.Errorf("open functions: %w", err)
		}
		fns = append(fns, fn)
	}
	found := make(map[family]bool)
	for _, fn := range fns {
		if found[fn.family] {
			continue
		}
		found[fn.family] = true
		p, err := interpreter(l.interp[fn.family], fn.family)
		if err != nil {
			return nil, fmt.Errorf("open functions: function %s needs %s: %w", fn.name, l.interp[fn.family], err)
		}
		l.interp[fn.family] = p
	}
	if l.runtimeDir, err = installRuntime(); err != nil {
		return nil, fmt.Errorf("open functions: %w", err)
	}
	for _, fn := range fns {
		l.funcs[fn.name] = &pool{
			fn:    fn,
			env:   l.environ(fn),
			slots: make(chan struct{}, l.cfg.MaxWarm),
		}
	}
	return l, nil
}

// interpreter returns the interpreter that name, a path or a program in
// PATH, runs in the end: a version manager's shim (pyenv's, asdf's) is
// resolved once here rather than at every cold start.
func interpreter(name string, f family) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	var args []string
	switch f {
	case python:
		args = []string{"-c", "import sys; print(sys.executable)"}
	case node:
		args = []string{"-p", "process.execPath"}
	}
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", path, strings.Join(args, " "), err)
	}
	if real := strings.TrimSpace(string(out)); filepath.IsAbs(real) {
		return real, nil
	}
	return path, nil
}

// Functions returns the names of the functions found, sorted.
func (l *Local) Functions() []string {
	return slices.Sorted(maps.Keys(l.funcs))
}

// Invoke calls the function arn names with input, the JSON of its event,
// and returns the JSON of its result. arn is a function ARN, with or
// without a qualifier (ignored), or a function's name; one that names no
// function of the directory is an error wrapping ErrNoFunction, as on a
// nil *Local. A handler's error, a timeout, and the runtime's exit are
// *FunctionError. The invocation waits for a free process when MaxWarm
// are busy.
func (l *Local) Invoke(ctx context.Context, arn string, input []byte) ([]byte, error) {
	if l == nil {
		return nil, fmt.Errorf("invoke %s: %w", arn, ErrNoFunction)
	}
	name, ok := functionName(arn)
	p := l.funcs[name]
	if !ok || p == nil {
		return nil, fmt.Errorf("invoke %s: %w", arn, ErrNoFunction)
	}
	out, err := l.invoke(ctx, p, arn, input)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", name, err)
	}
	return out, nil
}

func (l *Local) invoke(ctx context.Context, p *pool, arn string, input []byte) ([]byte, error) {
	if len(input) > maxPayload {
		return nil, fmt.Errorf("the request's payload is larger than %d bytes", maxPayload)
	}
	event := json.RawMessage(input)
	if len(strings.TrimSpace(string(input))) == 0 {
		event = json.RawMessage("{}") // as Lambda: no payload is {}
	} else if !json.Valid(input) {
		return nil, errors.New("the request's payload is not JSON")
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slots }()

	caller := callerOf(ctx)
	proc, initDur, err := l.take(ctx, p)
	if err != nil {
		var fe *FunctionError
		if errors.As(err, &fe) {
			l.logError(p.fn.name, "", caller, fe)
		}
		return nil, err
	}
	req := request{ID: uuid.NewString(), ARN: l.invokedARN(arn, p.fn.name), Event: event}
	timeout := p.fn.timeout
	if timeout == 0 {
		timeout = l.cfg.Timeout
	}
	start := time.Now()
	out, healthy, err := proc.invoke(ctx, req, timeout, caller)
	dur := time.Since(start)
	if healthy {
		l.put(p, proc)
	}
	var fe *FunctionError
	if errors.As(err, &fe) {
		l.logError(p.fn.name, req.ID, caller, fe)
	}
	attrs := []any{"function", p.fn.name, "request_id", req.ID, "duration", dur.Round(time.Microsecond)}
	if initDur > 0 {
		attrs = append(attrs, "init_duration", initDur.Round(time.Microsecond))
	}
	if caller != "" {
		attrs = append(attrs, "caller", caller)
	}
	l.log.Debug("function invoked", attrs...)
	return out, err
}

func (l *Local) logError(name, reqID, caller string, fe *FunctionError) {
	attrs := []any{"function", name}
	if reqID != "" {
		attrs = append(attrs, "request_id", reqID)
	}
	if caller != "" {
		attrs = append(attrs, "caller", caller)
	}
	attrs = append(attrs, "error_type", fe.Type, "error_message", fe.Message)
	if len(fe.Trace) > 0 {
		attrs = append(attrs, "stack_trace", strings.Join(fe.Trace, "\n"))
	}
	l.log.Warn("function error", attrs...)
}

// take returns a warm process of p, or starts one (a cold start) and
// returns how long its start-up took.
func (l *Local) take(ctx context.Context, p *pool) (*process, time.Duration, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		proc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !proc.dead() {
			p.mu.Unlock()
			return proc, 0, nil
		}
	}
	p.mu.Unlock()

	start := time.Now()
	env := maps.Clone(p.env)
	env["AWS_LAMBDA_LOG_STREAM_NAME"] = logStreamName(start)
	proc, err := startProcess(l.interp[p.fn.family], filepath.Join(l.runtimeDir, bootstrapFile[p.fn.family]), p.fn, environList(env), l.log, l.own)
	if err != nil {
		return nil, 0, err
	}
	if err := proc.waitReady(ctx); err != nil {
		return nil, 0, err
	}
	return proc, time.Since(start), nil
}

// put keeps proc warm for p's next invocation, unless Local is closing.
func (l *Local) put(p *pool, proc *process) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		proc.stop()
		return
	}
	p.mu.Lock()
	p.idle = append(p.idle, proc)
	p.mu.Unlock()
}

// own registers a process that just started, unless Local is closing;
// the process leaves the register once it has exited.
func (l *Local) own(proc *process) (*sync.WaitGroup, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false
	}
	l.procs[proc] = struct{}{}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		<-proc.exited
		l.mu.Lock()
		delete(l.procs, proc)
		l.mu.Unlock()
	}()
	return &l.wg, true
}

// Close kills every function process, waits until they and the
// goroutines that serve them have ended, and removes the runtime's files.
// Invocations in flight fail; later ones fail too.
func (l *Local) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs := slices.Collect(maps.Keys(l.procs))
	l.mu.Unlock()
	for _, proc := range procs {
		proc.kill()
	}
	l.wg.Wait()
	if err := os.RemoveAll(l.runtimeDir); err != nil {
		return fmt.Errorf("close functions: %w", err)
	}
	return nil
}
