package functions

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpenLocal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fns     map[string]map[string]string
		want    []string // the functions found
		wantErr string   // a part of the error
	}{
		{
			name: "defaults",
			fns: map[string]map[string]string{
				"py":      {"lambda_function.py": ""},
				"cjs":     {"index.js": ""},
				"esm":     {"index.mjs": ""},
				".hidden": {"x": ""},
			},
			want: []string{"cjs", "esm", "py"},
		},
		{
			name: "function.json",
			fns: map[string]map[string]string{
				"a": {"app.py": "", "function.json": `{"handler": "app.main", "runtime": "python3.12", "timeout": 900, "environment": {"K": "V"}}`},
				"b": {"src/app.js": "", "function.json": `{"handler": "src/app.run"}`},
				"c": {"pkg/mod.py": "", "function.json": `{"handler": "pkg.mod.main"}`},
				"d": {"pkg/__init__.py": "", "function.json": `{"handler": "pkg.main"}`},
				"e": {"index.js": "", "lambda_function.py": "", "function.json": `{"runtime": "nodejs22.x"}`},
			},
			want: []string{"a", "b", "c", "d", "e"},
		},
		{name: "no handler", fns: map[string]map[string]string{"empty": {"README": ""}}, wantErr: "function empty: no handler in "},
		{name: "both", fns: map[string]map[string]string{"both": {"index.js": "", "lambda_function.py": ""}}, wantErr: "both a Python and a Node handler"},
		{name: "unknown key", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"memorySize": 256}`}}, wantErr: "function.json: want {"},
		{name: "runtime", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"runtime": "java21"}`}}, wantErr: `runtime "java21"`},
		{name: "timeout", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"timeout": 901}`}}, wantErr: "timeout 901"},
		{name: "reserved", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"environment": {"AWS_REGION": "x"}}`}}, wantErr: "AWS_REGION is reserved"},
		{name: "variable", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"environment": {"A-B": "x"}}`}}, wantErr: `"A-B" is not a variable name`},
		{name: "not JSON", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{`}}, wantErr: "function.json"},
		{name: "handler missing", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"handler": "app.main"}`}}, wantErr: `handler "app.main": no such`},
		{name: "handler of runtime", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"runtime": "python3.12"}`}}, wantErr: `handler "lambda_function.lambda_handler": none of`},
		{name: "malformed handler", fns: map[string]map[string]string{"f": {"index.js": "", "function.json": `{"handler": "index", "runtime": "nodejs20.x"}`}}, wantErr: "want module.function"},
		{name: "name", fns: map[string]map[string]string{"bad name": {"index.js": ""}}, wantErr: "a function's name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fixture(t, tc.fns)
			l, err := OpenLocal(LocalConfig{Dir: dir})
			if tc.wantErr != "" {
				if err == nil {
					l.Close()
					t.Fatalf("OpenLocal succeeded, want an error with %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q, want %q in it", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if diff := cmp.Diff(tc.want, l.Functions()); diff != "" {
				t.Errorf("Functions() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenLocalErrorNamesFile(t *testing.T) {
	dir := fixture(t, map[string]map[string]string{"f": {"index.js": "", "function.json": `{"handler": "index.handler", "memory": 1}`}})
	_, err := OpenLocal(LocalConfig{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), dir+"/f/function.json") || !strings.Contains(err.Error(), `"memory"`) {
		t.Errorf("error %v: want the file and the key named", err)
	}
}

func TestOpenLocalMissing(t *testing.T) {
	if _, err := OpenLocal(LocalConfig{Dir: t.TempDir() + "/none"}); err == nil {
		t.Error("a missing directory: no error")
	}
	if _, err := OpenLocal(LocalConfig{}); err == nil {
		t.Error("no directory: no error")
	}
	dir := fixture(t, map[string]map[string]string{"f": {"index.js": ""}})
	if _, err := OpenLocal(LocalConfig{Dir: dir, Node: "/no/such/node"}); err == nil || !strings.Contains(err.Error(), "function f needs /no/such/node") {
		t.Errorf("a missing interpreter: %v", err)
	}
}

func TestFunctionName(t *testing.T) {
	for _, tc := range []struct {
		arn, name string
		ok        bool
	}{
		{"arn:aws:lambda:us-east-1:123456789012:function:hook", "hook", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:hook:$LATEST", "hook", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:hook:7", "hook", true},
		{"arn:aws-cn:lambda:cn-north-1:123456789012:function:my_fn-2:live", "my_fn-2", true},
		{"123456789012:function:hook", "hook", true},
		{"hook", "hook", true},
		{"hook:live", "hook", true},
		{"arn:aws:iot:us-east-1:123456789012:rule/r", "", false},
		{"arn:aws:lambda:us-east-1:123456789012:layer:x:1", "", false},
		{"arn:aws:lambda:us-east-1:123456789012:function:bad.name", "", false},
		{"", "", false},
	} {
		name, ok := functionName(tc.arn)
		if ok != tc.ok || ok && name != tc.name {
			t.Errorf("functionName(%q) = %q, %v; want %q, %v", tc.arn, name, ok, tc.name, tc.ok)
		}
	}
}

// fakeInvoker answers for the ARNs it has, ErrNoFunction for the rest.
type fakeInvoker map[string]string

func (f fakeInvoker) Invoke(ctx context.Context, arn string, input []byte) ([]byte, error) {
	out, ok := f[arn]
	switch {
	case !ok:
		return nil, ErrNoFunction
	case out == "fail":
		return nil, errors.New("failed")
	}
	return []byte(out), nil
}

func TestChain(t *testing.T) {
	c := Chain(fakeInvoker{"a": `"first"`, "f": "fail"}, nil, fakeInvoker{"a": `"second"`, "b": `"second"`, "f": `"second"`})
	for _, tc := range []struct {
		arn, want string
		err       error
	}{
		{"a", `"first"`, nil},
		{"b", `"second"`, nil},
		{"f", "", errors.New("failed")}, // a failure is not passed on
		{"c", "", ErrNoFunction},
	} {
		got, err := c.Invoke(context.Background(), tc.arn, nil)
		if string(got) != tc.want || (err == nil) != (tc.err == nil) || tc.err == ErrNoFunction && !errors.Is(err, ErrNoFunction) {
			t.Errorf("Invoke(%q) = %s, %v; want %s, %v", tc.arn, got, err, tc.want, tc.err)
		}
	}
	if _, err := Chain().Invoke(context.Background(), "a", nil); !errors.Is(err, ErrNoFunction) {
		t.Errorf("an empty chain: %v", err)
	}
	var local *Local
	var hooks *Webhooks
	if _, err := Chain(local, hooks).Invoke(context.Background(), "a", nil); !errors.Is(err, ErrNoFunction) {
		t.Errorf("a chain of nil invokers: %v", err)
	}
}

func TestWithCaller(t *testing.T) {
	ctx := WithCaller(context.Background(), "rule R")
	if got := callerOf(ctx); got != "rule R" {
		t.Errorf("callerOf = %q", got)
	}
	if got := callerOf(context.Background()); got != "" {
		t.Errorf("callerOf(no caller) = %q", got)
	}
}
