package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/iotcore/iotcore/internal/functions"
)

// functionRunner runs functions by ARN for the rules engine's lambda
// actions and fleet provisioning's pre-provisioning hooks: the local
// functions of Config.FunctionsDir first, then the webhooks of
// Config.HookURLs. It is set up at the end of Open, once the API's URL
// (which functions are given) is known, and before any message flows.
type functionRunner struct {
	invoker functions.Invoker // nil: none configured
	local   *functions.Local  // nil without FunctionsDir
}

func (f *functionRunner) Invoke(ctx context.Context, arn string, input []byte) ([]byte, error) {
	if f.invoker == nil {
		return nil, fmt.Errorf("invoke %s: %w (iotcore serve --functions-dir DIR, or --hook-url ARN=URL)", arn, functions.ErrNoFunction)
	}
	return f.invoker.Invoke(ctx, arn, input)
}

// openFunctions starts the local functions, if a directory is configured,
// with the environment Lambda gives a function: the admin credentials, the
// region, and the API as AWS_ENDPOINT_URL, so that an AWS SDK in the
// function reaches iotcore unchanged.
func (s *Server) openFunctions() error {
	cfg := s.Config
	var chain []functions.Invoker
	if cfg.FunctionsDir != "" {
		env := map[string]string{
			"AWS_ACCESS_KEY_ID":     s.Credentials.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY": s.Credentials.SecretAccessKey,
			"AWS_REGION":            s.Registry.Account.Region,
			"AWS_DEFAULT_REGION":    s.Registry.Account.Region,
			"AWS_ENDPOINT_URL":      s.APIURL(),
		}
		if strings.HasPrefix(s.APIURL(), "https:") {
			// The API's certificate is signed by the data directory's root CA.
			env["AWS_CA_BUNDLE"] = s.path(RootCAFile)
			env["NODE_EXTRA_CA_CERTS"] = s.path(RootCAFile)
		}
		local, err := functions.OpenLocal(functions.LocalConfig{
			Dir:     cfg.FunctionsDir,
			Timeout: cfg.FunctionTimeout,
			Env:     env,
			Logger:  cfg.Logger,
		})
		if err != nil {
			return fmt.Errorf("functions: %w", err)
		}
		s.functions.local = local
		chain = append(chain, local)
		cfg.Logger.Info("functions ready", "dir", cfg.FunctionsDir, "functions", local.Functions())
	}
	if len(cfg.HookURLs) > 0 {
		chain = append(chain, &functions.Webhooks{URLs: cfg.HookURLs})
	}
	if len(chain) > 0 {
		s.functions.invoker = functions.Chain(chain...)
	}
	return nil
}

// closeFunctions stops the functions' processes.
func (s *Server) closeFunctions() error {
	if s.functions.local == nil {
		return nil
	}
	return s.functions.local.Close()
}
