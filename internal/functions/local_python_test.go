package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iotcore/iotcore/internal/iottest"
)

func TestPythonResults(t *testing.T) {
	needPython(t)
	for _, tc := range []struct {
		name, body string
		event      any
		want       string
	}{
		{"echo", "return event", map[string]any{"a": []any{1.0, "b"}}, `{"a":[1,"b"]}`},
		{"none", "return None", nil, `null`},
		{"nothing", "pass", 1, `null`},
		{"string", "return 'hi'", nil, `"hi"`},
		{"decimal", "import decimal\n    return {'i': decimal.Decimal('3'), 'f': decimal.Decimal('1.5')}", nil, `{"i":3,"f":1.5}`},
		{"unicode", "return 'h\u00e9llo \u2603'", nil, `"h\u00e9llo \u2603"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fixture(t, map[string]map[string]string{
				"f": {"lambda_function.py": "def lambda_handler(event, context):\n    " + tc.body + "\n"},
			})
			l, _ := open(t, LocalConfig{Dir: dir})
			in, _ := json.Marshal(tc.event)
			out, err := l.Invoke(context.Background(), arnPrefix+"f", in)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("result %s: %v", out, err)
			}
			_ = json.Unmarshal([]byte(tc.want), &want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result %s (-want +got):\n%s", out, diff)
			}
		})
	}
}

func TestPythonEmptyAndInvalidPayload(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{
		"f": {"lambda_function.py": "def lambda_handler(event, context):\n    return event\n"},
	})
	l, _ := open(t, LocalConfig{Dir: dir})
	out, err := l.Invoke(context.Background(), arnPrefix+"f", nil)
	if err != nil || string(out) != "{}" {
		t.Errorf("no payload: %s, %v; want {}, as Lambda", out, err)
	}
	if _, err := l.Invoke(context.Background(), arnPrefix+"f", []byte("{")); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("invalid payload: %v, want an error", err)
	}
}

func TestPythonLog(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{
		"talker": {"lambda_function.py": `
import logging, sys
print("importing")
def lambda_handler(event, context):
    print("hello from", context.aws_request_id)
    print("to stderr", file=sys.stderr)
    logging.warning("a warning")
    logging.info("not shown: the root logger starts at WARNING, as on Lambda")
    return "result"
`},
	})
	l, logs := open(t, LocalConfig{Dir: dir})
	out, err := l.Invoke(WithCaller(context.Background(), "rule MyRule"), arnPrefix+"talker", []byte(`{}`))
	if err != nil || string(out) != `"result"` {
		t.Fatalf("invoke: %s, %v; want the result alone", out, err)
	}
	waitForLines(t, logs,
		`msg="function output" function=talker stream=stdout line=importing`,
		`caller="rule MyRule" stream=stdout line="hello from `,
		`caller="rule MyRule" stream=stderr line="to stderr"`,
		`line="[WARNING]\ta warning"`)
	s := logs.String()
	if strings.Contains(s, "not shown") {
		t.Errorf("log has an INFO record of the root logger:\n%s", s)
	}
	// The line printed during the invocation names its request.
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "hello from ") {
			id := line[strings.Index(line, "hello from ")+len("hello from ") : len(line)-1]
			if !strings.Contains(line, "request_id="+id) {
				t.Errorf("log line %q: want request_id=%s", line, id)
			}
		}
	}
}

func TestPythonErrors(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{
		"raises": {"lambda_function.py": `
class Custom(Exception):
    pass
def lambda_handler(event, context):
    if event.get("custom"):
        raise Custom("custom failure")
    raise ValueError("bad input")
`},
		"importerror":  {"lambda_function.py": "import no_such_module_here\ndef lambda_handler(e, c): pass\n"},
		"syntaxerror":  {"lambda_function.py": "def lambda_handler(e, c)\n    pass\n"},
		"nohandler":    {"lambda_function.py": "def other(e, c): pass\n"},
		"initraises":   {"lambda_function.py": "raise RuntimeError('no config')\n"},
		"unserialized": {"lambda_function.py": "def lambda_handler(e, c):\n    return {1, 2}\n"},
	})
	l, logs := open(t, LocalConfig{Dir: dir})
	for _, tc := range []struct {
		fn, event, typ, msg string
	}{
		{"raises", `{}`, "ValueError", "bad input"},
		{"raises", `{"custom":true}`, "Custom", "custom failure"},
		{"importerror", `{}`, "Runtime.ImportModuleError", "Unable to import module 'lambda_function': No module named 'no_such_module_here'"},
		{"syntaxerror", `{}`, "Runtime.UserCodeSyntaxError", "Syntax error in module 'lambda_function': "},
		{"nohandler", `{}`, "Runtime.HandlerNotFound", "Handler 'lambda_handler' missing on module 'lambda_function'"},
		{"initraises", `{}`, "RuntimeError", "no config"},
		{"unserialized", `{}`, "Runtime.MarshalError", "Unable to marshal response: "},
	} {
		_, err := l.Invoke(context.Background(), arnPrefix+tc.fn, []byte(tc.event))
		fe := functionError(t, err)
		if fe.Type != tc.typ || !strings.HasPrefix(fe.Message, tc.msg) {
			t.Errorf("%s %s: %s: %q; want %s: %q", tc.fn, tc.event, fe.Type, fe.Message, tc.typ, tc.msg)
		}
		if !strings.Contains(err.Error(), "invoke "+tc.fn+": "+tc.typ) {
			t.Errorf("%s: error %q: want the function and the error type named", tc.fn, err)
		}
	}
	// A handler's exception has its trace, without the runtime's frame.
	_, err := l.Invoke(context.Background(), arnPrefix+"raises", nil)
	if fe := functionError(t, err); len(fe.Trace) != 1 || !strings.Contains(fe.Trace[0], `lambda_function.py", line 7, in lambda_handler`) {
		t.Errorf("trace %q: want the handler's frame alone", fe.Trace)
	}
	if s := logs.String(); !strings.Contains(s, `msg="function error" function=raises`) || !strings.Contains(s, "error_type=ValueError") {
		t.Errorf("log lacks the function's error:\n%s", s)
	}

	// An import that failed is tried again at the next invocation, as on
	// Lambda: the fixed function serves it.
	fixed := "def lambda_handler(e, c):\n    return 'fixed'\n"
	if err := os.WriteFile(filepath.Join(dir, "importerror", "lambda_function.py"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := invoke(t, l, "importerror", nil); got != "fixed" {
		t.Errorf("after the fix: %v, want fixed", got)
	}
}

func TestPythonContext(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{
		"ctx": {
			"lambda_function.py": `
def lambda_handler(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
    }
`,
			"function.json": `{"timeout": 60}`,
		},
	})
	l, _ := open(t, LocalConfig{Dir: dir})
	got := invoke(t, l, "ctx", nil).(map[string]any)
	for k, want := range map[string]any{
		"function_name":        "ctx",
		"function_version":     "$LATEST",
		"invoked_function_arn": arnPrefix + "ctx",
		"memory_limit_in_mb":   "128",
		"log_group_name":       "/aws/lambda/ctx",
	} {
		if got[k] != want {
			t.Errorf("context.%s = %v, want %v", k, got[k], want)
		}
	}
	if id, _ := got["aws_request_id"].(string); len(id) != 36 {
		t.Errorf("aws_request_id %q: want a UUID", id)
	}
	if s, _ := got["log_stream_name"].(string); !strings.Contains(s, "/[$LATEST]") {
		t.Errorf("log_stream_name %q: want Lambda's form", s)
	}
	if r := num(t, got["remaining"]); r <= 50_000 || r > 60_000 {
		t.Errorf("get_remaining_time_in_millis() = %d, want nearly 60000", r)
	}
	// A qualified ARN and a bare name select the function too.
	for _, arn := range []string{arnPrefix + "ctx:$LATEST", arnPrefix + "ctx:live", "ctx"} {
		out, err := l.Invoke(context.Background(), arn, nil)
		if err != nil {
			t.Errorf("Invoke(%q): %v", arn, err)
			continue
		}
		var v map[string]any
		_ = json.Unmarshal(out, &v)
		if arn == "ctx" && v["invoked_function_arn"] != "arn:aws:lambda:us-east-1:000000000000:function:ctx" {
			t.Errorf("invoked by name: invoked_function_arn %v", v["invoked_function_arn"])
		}
	}
}

// counter is a Python function that counts its invocations per process
// and answers {"n": count, "pid": its process}; {"sleep": s} makes it
// sleep s seconds first, {"exit": code} makes its process exit.
const counter = `
import os, time
n = 0
def lambda_handler(event, context):
    global n
    n += 1
    if "sleep" in event:
        time.sleep(event["sleep"])
    if "exit" in event:
        os._exit(event["exit"])
    if "big" in event:
        return "x" * event["big"]
    return {"n": n, "pid": os.getpid()}
`

func TestPythonWarm(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{"counter": {"lambda_function.py": counter}})
	l, _ := open(t, LocalConfig{Dir: dir})
	var pid any
	for want := 1; want <= 3; want++ {
		got := invoke(t, l, "counter", map[string]any{})
		if n := num(t, field(t, got, "n")); n != want {
			t.Errorf("invocation %d: n = %d: want the module imported once, its counter kept", want, n)
		}
		if pid != nil && field(t, got, "pid") != pid {
			t.Errorf("invocation %d: process %v, want %v again", want, field(t, got, "pid"), pid)
		}
		pid = field(t, got, "pid")
	}
}

func TestPythonTimeout(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{"counter": {"lambda_function.py": counter}})
	l, logs := open(t, LocalConfig{Dir: dir, Timeout: 500 * time.Millisecond})
	first := invoke(t, l, "counter", map[string]any{})
	pid := num(t, field(t, first, "pid"))

	start := time.Now()
	_, err := invokeErr(l, "counter", map[string]any{"sleep": 60})
	fe := functionError(t, err)
	if fe.Type != "Sandbox.Timedout" || fe.Message != "Task timed out after 0.50 seconds" {
		t.Errorf("timeout: %s: %q; want Lambda's", fe.Type, fe.Message)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	if !gone(t, pid) {
		t.Errorf("process %d still runs after the timeout", pid)
	}
	// The next invocation starts a new process.
	got := invoke(t, l, "counter", map[string]any{})
	if n := num(t, field(t, got, "n")); n != 1 || num(t, field(t, got, "pid")) == pid {
		t.Errorf("after the timeout: %v; want a cold start", got)
	}
	if !strings.Contains(logs.String(), "Task timed out after 0.50 seconds") {
		t.Errorf("log lacks the timeout:\n%s", logs)
	}

	// A caller's context ending first kills the process too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	pid = num(t, field(t, got, "pid"))
	if _, err := l.Invoke(ctx, arnPrefix+"counter", []byte(`{"sleep": 60}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the caller's deadline: %v", err)
	}
	if !gone(t, pid) {
		t.Errorf("process %d still runs after its caller gave up", pid)
	}
}

func TestPythonExit(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{"counter": {"lambda_function.py": counter}})
	l, _ := open(t, LocalConfig{Dir: dir})
	_, err := invokeErr(l, "counter", map[string]any{"exit": 3})
	if fe := functionError(t, err); fe.Type != "Runtime.ExitError" || fe.Message != "Runtime exited with error: exit status 3" {
		t.Errorf("exit: %s: %q", fe.Type, fe.Message)
	}
	if got := invoke(t, l, "counter", map[string]any{}); num(t, field(t, got, "n")) != 1 {
		t.Errorf("after the exit: %v, want a cold start", got)
	}
}

func TestPythonResponseSize(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{"counter": {"lambda_function.py": counter}})
	l, _ := open(t, LocalConfig{Dir: dir})
	_, err := invokeErr(l, "counter", map[string]any{"big": 7 << 20})
	if fe := functionError(t, err); fe.Type != "Function.ResponseSizeTooLarge" {
		t.Errorf("7 MB: %s: %q", fe.Type, fe.Message)
	}
	// Just under the limit passes; the process stays warm.
	got := invoke(t, l, "counter", map[string]any{"big": 6<<20 - 2})
	if s, _ := got.(string); len(s) != 6<<20-2 {
		t.Errorf("6 MB less its quotes: %d bytes", len(s))
	}
	if got := invoke(t, l, "counter", map[string]any{}); num(t, field(t, got, "n")) != 3 {
		t.Errorf("after the large responses: %v, want the same process", got)
	}
}

func TestPythonConcurrency(t *testing.T) {
	needPython(t)
	var (
		mu               sync.Mutex
		inFlight, most   int
		release          = make(chan struct{})
		releaseOnce      sync.Once
		releaseAll       = func() { releaseOnce.Do(func() { close(release) }) }
		inFlightNow      = func() int { mu.Lock(); defer mu.Unlock(); return inFlight }
		mostConcurrently = func() int { mu.Lock(); defer mu.Unlock(); return most }
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(releaseAll)
	dir := fixture(t, map[string]map[string]string{"blocker": {"lambda_function.py": `
import os, urllib.request
def lambda_handler(event, context):
    urllib.request.urlopen(event["url"]).read()
    return os.getpid()
`}})
	l, _ := open(t, LocalConfig{Dir: dir, MaxWarm: 2, Timeout: time.Minute})

	const calls = 5
	pids := make(chan int, calls)
	errs := make(chan error, calls)
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			out, err := l.Invoke(context.Background(), arnPrefix+"blocker", []byte(fmt.Sprintf(`{"url": %q}`, srv.URL)))
			if err != nil {
				errs <- err
				return
			}
			var pid int
			_ = json.Unmarshal(out, &pid)
			pids <- pid
		})
	}
	iottest.WaitFor(t, "two invocations in flight", func() bool { return inFlightNow() == 2 })
	releaseAll()
	wg.Wait()
	close(pids)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	distinct := make(map[int]bool)
	for pid := range pids {
		distinct[pid] = true
	}
	if most := mostConcurrently(); most != 2 {
		t.Errorf("%d invocations ran at once, want MaxWarm's 2", most)
	}
	if len(distinct) != 2 {
		t.Errorf("%d processes served %d invocations, want 2", len(distinct), calls)
	}
}

func TestPythonEnvironment(t *testing.T) {
	needPython(t)
	t.Setenv("IOTCORE_TEST_SECRET", "do not pass me on")
	dir := fixture(t, map[string]map[string]string{
		"env": {"lambda_function.py": `
import os
def lambda_handler(event, context):
    return {"env": dict(os.environ), "cwd": os.getcwd()}
`},
		"configured": {
			"app.py": `
import os, time
def main(event, context):
    return {"env": dict(os.environ), "tz": time.strftime("%Z")}
`,
			"function.json": `{"handler": "app.main", "runtime": "python3.11", "timeout": 10, "environment": {"K": "V", "SHARED": "function"}}`,
		},
	})
	l, _ := open(t, LocalConfig{Dir: dir, Env: map[string]string{"AWS_REGION": "eu-west-1", "SHARED": "server"}})

	got := invoke(t, l, "env", nil)
	env := field(t, got, "env").(map[string]any)
	for k, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "env",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/env",
		"LAMBDA_TASK_ROOT":                filepath.Join(dir, "env"),
		"_HANDLER":                        "lambda_function.lambda_handler",
		"TZ":                              ":UTC",
		"AWS_REGION":                      "eu-west-1",
		"SHARED":                          "server",
	} {
		if env[k] != want {
			t.Errorf("%s = %v, want %q", k, env[k], want)
		}
	}
	// (pyenv's python3 puts its own directories in front.)
	if path, _ := env["PATH"].(string); !strings.HasSuffix(path, os.Getenv("PATH")) {
		t.Errorf("PATH = %q, want iotcore's %q", path, os.Getenv("PATH"))
	}
	if v, _ := env["AWS_EXECUTION_ENV"].(string); !strings.HasPrefix(v, "AWS_Lambda_python3.") {
		t.Errorf("AWS_EXECUTION_ENV = %q, want AWS_Lambda_python3.x", v)
	}
	if _, ok := env["IOTCORE_TEST_SECRET"]; ok {
		t.Errorf("the function got iotcore's own IOTCORE_TEST_SECRET")
	}
	if cwd := field(t, got, "cwd"); cwd != filepath.Join(dir, "env") {
		t.Errorf("working directory %v, want the function's", cwd)
	}

	got = invoke(t, l, "configured", nil)
	env = field(t, got, "env").(map[string]any)
	for k, want := range map[string]string{
		"K":                 "V",
		"SHARED":            "function",
		"_HANDLER":          "app.main",
		"AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
	} {
		if env[k] != want {
			t.Errorf("configured: %s = %v, want %q", k, env[k], want)
		}
	}
	if tz := field(t, got, "tz"); tz != "UTC" {
		t.Errorf("time zone %v, want UTC", tz)
	}
}

func TestPythonConfiguredTimeout(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{
		"slow": {
			"handler.py":    "import time\ndef run(event, context):\n    time.sleep(event['sleep'])\n    return 'done'\n",
			"function.json": `{"handler": "handler.run", "timeout": 1}`,
		},
	})
	l, _ := open(t, LocalConfig{Dir: dir, Timeout: time.Minute})
	if got := invoke(t, l, "slow", map[string]any{"sleep": 0}); got != "done" {
		t.Errorf("got %v", got)
	}
	_, err := invokeErr(l, "slow", map[string]any{"sleep": 60})
	if fe := functionError(t, err); fe.Message != "Task timed out after 1.00 seconds" {
		t.Errorf("function.json's timeout: %q", fe.Message)
	}
}

func TestPythonClose(t *testing.T) {
	needPython(t)
	dir := fixture(t, map[string]map[string]string{"spawner": {"lambda_function.py": `
import os, subprocess
def lambda_handler(event, context):
    child = subprocess.Popen(["sleep", "300"])
    return [os.getpid(), child.pid]
`}})
	l, err := OpenLocal(LocalConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for range 2 {
		// Two at once, so that two processes are warm.
		var wg sync.WaitGroup
		out := make([][]byte, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				out[i], errs[i] = l.Invoke(context.Background(), arnPrefix+"spawner", nil)
			})
		}
		wg.Wait()
		for i, o := range out {
			var p []int
			if err := errors.Join(errs[i], json.Unmarshal(o, &p)); err != nil || len(p) != 2 {
				t.Fatalf("result %s: %v", o, err)
			}
			pids = append(pids, p...)
		}
	}
	runtimeDir := l.runtimeDir
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if !gone(t, pid) {
			t.Errorf("process %d still runs after Close", pid)
		}
	}
	if _, err := os.Stat(runtimeDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the runtime directory %s is still there: %v", runtimeDir, err)
	}
	if _, err := l.Invoke(context.Background(), arnPrefix+"spawner", nil); err == nil {
		t.Error("Invoke after Close succeeded")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPythonBoto3 runs a function that publishes with boto3 to an HTTP
// server through the endpoint and credentials the server gives every
// function (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID…), as iotcore gives its
// own.
func TestPythonBoto3(t *testing.T) {
	needPython(t)
	if out, err := runPython("import boto3; print(boto3.__version__)"); err != nil {
		iottest.Missing(t, "boto3: %v: %s", err, out)
	}
	type publish struct{ path, query, auth, body string }
	got := make(chan publish, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- publish{r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), string(body)}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	dir := fixture(t, map[string]map[string]string{"publisher": {
		"lambda_function.py": `
import json, boto3
iot = boto3.client("iot-data")
def lambda_handler(event, context):
    iot.publish(topic="things/" + event["thing"] + "/alerts", qos=1, payload=json.dumps(event))
    return {"published": True}
`,
		"function.json": `{"timeout": 30}`,
	}})
	l, _ := open(t, LocalConfig{Dir: dir, Env: map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIDLOCALTEST",
		"AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_REGION":            "eu-west-1",
		"AWS_DEFAULT_REGION":    "eu-west-1",
		"AWS_ENDPOINT_URL":      srv.URL,
	}})
	res := invoke(t, l, "publisher", map[string]any{"thing": "pump-1", "temp": 90})
	if field(t, res, "published") != true {
		t.Errorf("result %v", res)
	}
	p := iottest.Receive(t, got, "the function's publish")
	if p.path != "/topics/things%2Fpump-1%2Falerts" || p.query != "qos=1" {
		t.Errorf("request %s?%s, want Publish to things/pump-1/alerts", p.path, p.query)
	}
	if !strings.Contains(p.auth, "Credential=AKIDLOCALTEST/") || !strings.Contains(p.auth, "/eu-west-1/iotdata/aws4_request") {
		t.Errorf("Authorization %q: want SigV4 with the given credentials and region", p.auth)
	}
	if p.body != `{"temp": 90, "thing": "pump-1"}` {
		t.Errorf("payload %q", p.body)
	}
}
