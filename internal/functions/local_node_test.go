package functions

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNodeHandlers(t *testing.T) {
	needNode(t)
	dir := fixture(t, map[string]map[string]string{
		"cjs": {"index.js": `
let n = 0;
exports.handler = async (event, context) => ({ style: 'cjs', n: ++n, event });
`},
		"cjsobject": {"index.js": `
module.exports = { handler: async (event) => 'module.exports' };
`},
		"esm": {"index.mjs": `
let n = 0;
const config = await Promise.resolve('top-level await');
export const handler = async (event, context) => ({ style: 'esm', n: ++n, config });
`},
		"esmpackage": {
			"package.json": `{"type": "module"}`,
			"index.js":     `export const handler = async () => 'esm by package.json';`,
		},
		"promise": {"index.js": `
exports.handler = (event) => new Promise((resolve) => setTimeout(() => resolve('promised'), 1));
`},
		"callback": {"index.js": `
exports.handler = (event, context, callback) => {
  setTimeout(() => callback(null, { style: 'callback', remaining: context.getRemainingTimeInMillis() > 0 }), 1);
};
`},
		"succeed": {"index.js": `
exports.handler = (event, context, callback) => { context.succeed('succeeded'); };
`},
		"sync": {"index.js": `
exports.handler = (event) => 'ignored: neither a promise nor a callback';
`},
		"undefined": {"index.js": `exports.handler = async () => undefined;`},
		"nested": {
			"src/app.cjs":   `exports.handlers = { main: async (e) => 'nested ' + e.x };`,
			"function.json": `{"handler": "src/app.handlers.main", "runtime": "nodejs20.x"}`,
		},
	})
	l, logs := open(t, LocalConfig{Dir: dir})
	for _, tc := range []struct {
		fn    string
		event any
		want  any
	}{
		{"cjs", map[string]any{"a": 1.0}, map[string]any{"style": "cjs", "n": 1.0, "event": map[string]any{"a": 1.0}}},
		{"cjs", nil, map[string]any{"style": "cjs", "n": 2.0, "event": nil}},
		{"cjsobject", nil, "module.exports"},
		{"esm", nil, map[string]any{"style": "esm", "n": 1.0, "config": "top-level await"}},
		{"esm", nil, map[string]any{"style": "esm", "n": 2.0, "config": "top-level await"}},
		{"esmpackage", nil, "esm by package.json"},
		{"promise", nil, "promised"},
		{"callback", nil, map[string]any{"style": "callback", "remaining": true}},
		{"succeed", nil, "succeeded"},
		{"sync", nil, nil},
		{"undefined", nil, nil},
		{"nested", map[string]any{"x": "y"}, "nested y"},
	} {
		got, err := invokeErr(l, tc.fn, tc.event)
		if err != nil {
			t.Errorf("%s: %v", tc.fn, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.fn, diff)
		}
	}
	if t.Failed() {
		t.Log(logs)
	}
}

func TestNodeErrors(t *testing.T) {
	needNode(t)
	dir := fixture(t, map[string]map[string]string{
		"throws": {"index.js": `
class ValidationError extends Error { constructor(m) { super(m); this.name = 'ValidationError'; } }
exports.handler = async (event) => {
  if (event.custom) throw new ValidationError('bad field');
  if (event.string) throw 'just a string';
  if (event.callback) return undefined;
  throw new Error('boom');
};
`},
		"callbackerror": {"index.js": `
exports.handler = (event, context, callback) => callback(new TypeError('wrong type'));
`},
		"uncaught": {"index.js": `
let n = 0;
exports.handler = async (event) => {
  n++;
  if (event.crash) {
    setTimeout(() => { throw new RangeError('out of range later'); }, 1);
    return new Promise(() => {});
  }
  return n;
};
`},
		"syntax":    {"index.js": "exports.handler = async (event => {\n"},
		"esmsyntax": {"index.mjs": "export const handler = async ( => 1;\n"},
		"missing":   {"index.js": "require('no-such-package-here');\n"},
		"nohandler": {"index.mjs": "export const other = 1;\n"},
	})
	l, _ := open(t, LocalConfig{Dir: dir})
	for _, tc := range []struct {
		fn, event, typ, msg string
	}{
		{"throws", `{}`, "Error", "boom"},
		{"throws", `{"custom":true}`, "ValidationError", "bad field"},
		{"throws", `{"string":true}`, "string", "just a string"},
		{"callbackerror", `{}`, "TypeError", "wrong type"},
		{"uncaught", `{"crash":true}`, "RangeError", "out of range later"},
		{"syntax", `{}`, "Runtime.UserCodeSyntaxError", "SyntaxError: "},
		{"esmsyntax", `{}`, "Runtime.UserCodeSyntaxError", "SyntaxError: "},
		{"missing", `{}`, "Runtime.ImportModuleError", "Error: Cannot find module 'no-such-package-here'"},
		{"nohandler", `{}`, "Runtime.HandlerNotFound", "index.handler is undefined or not exported"},
	} {
		_, err := l.Invoke(context.Background(), arnPrefix+tc.fn, []byte(tc.event))
		var fe *FunctionError
		if !errors.As(err, &fe) {
			t.Errorf("%s %s: %v, want a FunctionError", tc.fn, tc.event, err)
			continue
		}
		if fe.Type != tc.typ || !strings.HasPrefix(fe.Message, tc.msg) {
			t.Errorf("%s %s: %s: %q; want %s: %q", tc.fn, tc.event, fe.Type, fe.Message, tc.typ, tc.msg)
		}
	}
	_, err := l.Invoke(context.Background(), arnPrefix+"throws", nil)
	if fe := functionError(t, err); len(fe.Trace) < 2 || fe.Trace[0] != "Error: boom" || !strings.Contains(fe.Trace[1], "index.js:7") {
		t.Errorf("trace %q: want the stack from the throw", fe.Trace)
	}
	// The uncaught exception ended its process; the next invocation
	// starts another.
	if got := invoke(t, l, "uncaught", map[string]any{}); num(t, got) != 1 {
		t.Errorf("after the uncaught exception: %v, want a cold start", got)
	}
}

func TestNodeContextAndLog(t *testing.T) {
	needNode(t)
	dir := fixture(t, map[string]map[string]string{
		"ctx": {"index.mjs": `
console.log('loading');
export const handler = async (event, context) => {
  console.log('event', JSON.stringify(event));
  console.error('an error line');
  return {
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    awsRequestId: context.awsRequestId,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    remaining: context.getRemainingTimeInMillis(),
    callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    env: {
      AWS_EXECUTION_ENV: process.env.AWS_EXECUTION_ENV,
      TZ: process.env.TZ,
      LAMBDA_TASK_ROOT: process.env.LAMBDA_TASK_ROOT,
      HOME: process.env.HOME !== undefined,
    },
    offset: new Date().getTimezoneOffset(),
  };
};
`},
	})
	l, logs := open(t, LocalConfig{Dir: dir, Timeout: 10 * time.Second})
	out, err := l.Invoke(WithCaller(context.Background(), "template T hook"), arnPrefix+"ctx:$LATEST", []byte(`{"k":"v"}`))
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, out).(map[string]any)
	id, _ := got["awsRequestId"].(string)
	for k, want := range map[string]any{
		"functionName":                   "ctx",
		"functionVersion":                "$LATEST",
		"invokedFunctionArn":             arnPrefix + "ctx:$LATEST",
		"memoryLimitInMB":                "128",
		"logGroupName":                   "/aws/lambda/ctx",
		"callbackWaitsForEmptyEventLoop": true,
		"offset":                         0.0,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if r := num(t, got["remaining"]); r <= 5000 || r > 10000 {
		t.Errorf("getRemainingTimeInMillis() = %d, want nearly 10000", r)
	}
	env := got["env"].(map[string]any)
	if v, _ := env["AWS_EXECUTION_ENV"].(string); !strings.HasPrefix(v, "AWS_Lambda_nodejs") || env["TZ"] != ":UTC" || env["HOME"] != true {
		t.Errorf("environment %v", env)
	}
	waitForLines(t, logs,
		`function=ctx stream=stdout line=loading`,
		`function=ctx request_id=`+id+` caller="template T hook" stream=stdout line="event {\"k\":\"v\"}"`,
		`function=ctx request_id=`+id+` caller="template T hook" stream=stderr line="an error line"`)
}

func TestNodeTimeout(t *testing.T) {
	needNode(t)
	dir := fixture(t, map[string]map[string]string{
		"spin": {
			"index.js": `
let n = 0;
exports.handler = async (event) => {
  n++;
  if (event.spin) for (;;) {}
  return { n, pid: process.pid };
};
`,
			"function.json": `{"timeout": 1}`,
		},
	})
	l, _ := open(t, LocalConfig{Dir: dir})
	pid := num(t, field(t, invoke(t, l, "spin", map[string]any{}), "pid"))
	_, err := invokeErr(l, "spin", map[string]any{"spin": true})
	if fe := functionError(t, err); fe.Type != "Sandbox.Timedout" || fe.Message != "Task timed out after 1.00 seconds" {
		t.Errorf("timeout: %s: %q", fe.Type, fe.Message)
	}
	if !gone(t, pid) {
		t.Errorf("process %d still runs after the timeout", pid)
	}
	if got := invoke(t, l, "spin", map[string]any{}); num(t, field(t, got, "n")) != 1 {
		t.Errorf("after the timeout: %v, want a cold start", got)
	}
}
