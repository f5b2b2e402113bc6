package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/functions"
	"github.com/iotcore/iotcore/internal/provision"
)

// FleetTokenKeyFile holds the key that signs fleet provisioning's
// certificate ownership tokens (hex, 0600).
const FleetTokenKeyFile = "fleet-token.key"

// pruneInterval is how often certificates that fleet provisioning issued
// and no RegisterThing claimed within the token's hour are deleted.
const pruneInterval = 5 * time.Minute

// openFleet prepares fleet provisioning's MQTT API, which the broker serves
// on the reserved topics $aws/certificates/... and
// $aws/provisioning-templates/....
func (s *Server) openFleet() error {
	key, err := loadOrCreateSecret(s.path(FleetTokenKeyFile))
	if err != nil {
		return err
	}
	s.fleet = &provision.Fleet{
		Registry: s.Registry,
		TokenKey: key,
		Account:  s.Registry.Account,
		Logger:   s.Config.Logger,
		Metrics:  s.Metrics,
		Rates:    s.Config.FleetRates,
		// Events: the broker, once it is open (openBroker).
	}
	s.fleet.Hook = functionHooks{&s.functions}
	return nil
}

// pruneUnclaimed deletes, every pruneInterval until ctx ends, the
// certificates fleet provisioning issued that were never registered.
func (s *Server) pruneUnclaimed(ctx context.Context) error {
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := s.fleet.PruneUnclaimed(ctx); err != nil && ctx.Err() == nil {
			s.Config.Logger.Error("fleet provisioning: pruning unclaimed certificates", "error", err)
		}
	}
}

// functionHooks runs pre-provisioning hooks as the functions they name, as
// AWS runs them as Lambda functions: a local function (--functions-dir) or
// a webhook (--hook-url).
type functionHooks struct{ f functions.Invoker }

func (h functionHooks) PreProvision(ctx context.Context, targetARN string, in provision.HookInput) (*provision.HookOutput, error) {
	payload, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	answer, err := h.f.Invoke(functions.WithCaller(ctx, "pre-provisioning hook"), targetARN, payload)
	if err != nil {
		return nil, err
	}
	var out provision.HookOutput
	if err := json.Unmarshal(answer, &out); err != nil {
		return nil, fmt.Errorf("pre-provisioning hook %s: its answer is not the JSON of allowProvisioning and parameterOverrides: %w", targetARN, err)
	}
	return &out, nil
}
