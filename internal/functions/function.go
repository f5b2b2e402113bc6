package functions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ConfigFile is the file of a function's directory that names another
// handler, runtime, timeout or environment than the defaults.
const ConfigFile = "function.json"

// family is the runtime family a function runs in; only it matters of a
// Lambda runtime identifier such as python3.11 or nodejs20.x.
type family string

const (
	python family = "python"
	node   family = "node"
)

// Lambda's default handler of each family (the console's, and what a
// function.json without "handler" gets).
var defaultHandler = map[family]string{
	python: "lambda_function.lambda_handler",
	node:   "index.handler",
}

// maxTimeout is Lambda's largest function timeout, 900 seconds.
const maxTimeout = 900

// function is one subdirectory of the functions directory.
type function struct {
	name    string
	dir     string // absolute
	family  family
	runtime string // function.json's runtime, "" when it names none
	handler string
	timeout time.Duration     // function.json's; 0 = the Local's
	env     map[string]string // function.json's environment
}

// functionConfig is the content of function.json.
type functionConfig struct {
	// Handler is Lambda's handler string, module.function.
	Handler string `json:"handler"`
	// Runtime is a Lambda runtime identifier; python* runs with python3,
	// nodejs* with node.
	Runtime string `json:"runtime"`
	// Timeout is the function's timeout in seconds, 1 to 900.
	Timeout int `json:"timeout"`
	// Environment is given to the function over every other variable.
	Environment map[string]string `json:"environment"`
}

// reservedEnv are the variables Lambda does not let a function's
// configuration set: the runtime sets them.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// loadFunction reads the function in dir, named name: its function.json
// if there is one, and which handler file it has.
func loadFunction(dir, name string) (*function, error) {
	if !validName(name) {
		return nil, fmt.Errorf("function %s: a function's name (its directory's) is 1 to 64 letters, digits, hyphens and underscores", dir)
	}
	fn := &function{name: name, dir: dir}
	var cfg functionConfig
	path := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("function %s: %w", name, err)
	default:
		if cfg, err = parseConfig(data); err != nil {
			return nil, fmt.Errorf("function %s: %s: %w", name, path, err)
		}
	}
	fn.runtime, fn.handler, fn.env = cfg.Runtime, cfg.Handler, cfg.Environment
	fn.timeout = time.Duration(cfg.Timeout) * time.Second

	switch rt := cfg.Runtime; {
	case rt == "":
	case strings.HasPrefix(rt, "python"):
		fn.family = python
	case strings.HasPrefix(rt, "nodejs"):
		fn.family = node
	default:
		return nil, fmt.Errorf("function %s: %s: runtime %q: want a python* or nodejs* runtime, such as python3.12 or nodejs20.x", name, path, rt)
	}

	if fn.family != "" {
		if fn.handler == "" {
			fn.handler = defaultHandler[fn.family]
		}
		if _, err := handlerFile(dir, fn.family, fn.handler); err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
		return fn, nil
	}
	// No runtime named: the handler's file says which.
	var found []family
	for _, f := range []family{python, node} {
		h := fn.handler
		if h == "" {
			h = defaultHandler[f]
		}
		if _, err := handlerFile(dir, f, h); err == nil {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 0:
		if fn.handler != "" {
			return nil, fmt.Errorf("function %s: handler %q: no such Python or Node module in %s", name, fn.handler, dir)
		}
		return nil, fmt.Errorf("function %s: no handler in %s: want lambda_function.py (Python), index.js or index.mjs (Node), or a %s naming the handler", name, dir, ConfigFile)
	case 2:
		return nil, fmt.Errorf("function %s: %s holds both a Python and a Node handler: name the runtime in %s", name, dir, ConfigFile)
	}
	fn.family = found[0]
	if fn.handler == "" {
		fn.handler = defaultHandler[fn.family]
	}
	return fn, nil
}

// parseConfig reads function.json, refusing keys it does not know.
func parseConfig(data []byte) (functionConfig, error) {
	var cfg functionConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("want {\"handler\", \"runtime\", \"timeout\", \"environment\"}: %w", err)
	}
	if dec.More() {
		return cfg, errors.New("want one JSON object")
	}
	if cfg.Timeout < 0 || cfg.Timeout > maxTimeout {
		return cfg, fmt.Errorf("timeout %d: want 1 to %d seconds", cfg.Timeout, maxTimeout)
	}
	for k := range cfg.Environment {
		if !validEnvName(k) {
			return cfg, fmt.Errorf("environment: %q is not a variable name", k)
		}
		if reservedEnv[k] {
			return cfg, fmt.Errorf("environment: %s is reserved: Lambda sets it", k)
		}
	}
	return cfg, nil
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// handlerFile returns the file of dir that holds handler's module, as the
// runtime of family would look for it: for Python, "pkg.mod.fn" (or
// "pkg/mod.fn") is pkg/mod.py or pkg/mod/__init__.py; for Node,
// "dir/mod.fn" is dir/mod.js, .mjs or .cjs.
func handlerFile(dir string, f family, handler string) (string, error) {
	module, _, err := splitHandler(f, handler)
	if err != nil {
		return "", err
	}
	var candidates []string
	switch f {
	case python:
		p := filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(module, ".", "/")))
		candidates = []string{p + ".py", filepath.Join(p, "__init__.py")}
	case node:
		p := filepath.Join(dir, filepath.FromSlash(module))
		candidates = []string{p + ".js", p + ".mjs", p + ".cjs"}
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", fmt.Errorf("handler %q: none of %s", handler, strings.Join(candidates, ", "))
}

// splitHandler splits a handler string into its module and function, as
// the runtimes do: Python at the last dot, Node at the first dot after the
// last slash (the rest may be a dotted path into the module).
func splitHandler(f family, handler string) (module, fn string, err error) {
	var ok bool
	switch f {
	case python:
		i := strings.LastIndexByte(handler, '.')
		module, fn, ok = handler[:max(i, 0)], handler[i+1:], i >= 0
	case node:
		slash := strings.LastIndexByte(handler, '/') + 1
		var rest string
		rest, fn, ok = strings.Cut(handler[slash:], ".")
		module = handler[:slash] + rest
	}
	if !ok || module == "" || fn == "" || strings.HasPrefix(module, "/") || strings.Contains(module, "..") {
		return "", "", fmt.Errorf("handler %q: want module.function, such as %s", handler, defaultHandler[f])
	}
	return module, fn, nil
}
