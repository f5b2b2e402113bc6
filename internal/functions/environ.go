package functions

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// inherited are the only variables of iotcore's own environment a
// function gets: the rest may hold secrets.
var inherited = []string{"PATH", "HOME", "LANG"}

// environ returns fn's environment but its log stream name, from the
// lowest precedence up: PATH, HOME and LANG of iotcore's environment;
// Lambda's variables; LocalConfig.Env; function.json's environment.
func (l *Local) environ(fn *function) map[string]string {
	env := make(map[string]string)
	for _, k := range inherited {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	// Lambda's, as its runtimes set them
	// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
	env["_HANDLER"] = fn.handler
	env["LAMBDA_TASK_ROOT"] = fn.dir
	env["LAMBDA_RUNTIME_DIR"] = l.runtimeDir
	env["AWS_LAMBDA_FUNCTION_NAME"] = fn.name
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "128"
	env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + fn.name
	env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	env["TZ"] = ":UTC"
	if fn.runtime != "" {
		// Otherwise the runtime sets it from the interpreter's version.
		env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.runtime
	}
	if fn.family == python {
		// Compiled modules go to iotcore's private directory, not into
		// the function's (Lambda's task root is read-only).
		env["PYTHONPYCACHEPREFIX"] = filepath.Join(l.runtimeDir, "pycache")
	}
	for k, v := range l.cfg.Env {
		env[k] = v
	}
	for k, v := range fn.env {
		env[k] = v
	}
	return env
}

// environList returns env as exec.Cmd wants it, sorted.
func environList(env map[string]string) []string {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	slices.Sort(list)
	return list
}

// logStreamName returns a new log stream name, in Lambda's form:
// 2006/01/02/[$LATEST] and 32 hexadecimal digits.
func logStreamName(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(b[:])
}

// invokedARN returns the ARN the function was invoked by, as its context
// reports it: arn if it is one, else an ARN made of the name (the region
// of LocalConfig.Env's AWS_REGION, account 000000000000).
func (l *Local) invokedARN(arn, name string) string {
	if strings.HasPrefix(arn, "arn:") {
		return arn
	}
	region := l.cfg.Env["AWS_REGION"]
	if region == "" {
		region = "us-east-1"
	}
	qualifier := ""
	if _, q, ok := strings.Cut(arn, name+":"); ok {
		qualifier = ":" + q
	}
	return "arn:aws:lambda:" + region + ":000000000000:function:" + name + qualifier
}
