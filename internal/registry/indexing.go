package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// SettingTx stores account-wide settings, JSON under a name.
type SettingTx interface {
	Setting(ctx context.Context, name string) (string, error)
	PutSetting(ctx context.Context, name, value string, now time.Time) error
}

// indexingSetting is the SettingTx name of the fleet index's configuration.
const indexingSetting = "indexing"

// IndexingConfiguration is the fleet index's configuration
// (UpdateIndexingConfiguration): which sources the AWS_Things index
// holds, and whether the AWS_ThingGroups index exists. Members iotcore
// keeps without acting on them (custom fields, geolocations) stay JSON.
type IndexingConfiguration struct {
	ThingIndexingMode             string          `json:"thingIndexingMode"`             // OFF, REGISTRY, REGISTRY_AND_SHADOW
	ThingConnectivityIndexingMode string          `json:"thingConnectivityIndexingMode"` // OFF, STATUS
	DeviceDefenderIndexingMode    string          `json:"deviceDefenderIndexingMode"`    // OFF, VIOLATIONS
	NamedShadowIndexingMode       string          `json:"namedShadowIndexingMode"`       // OFF, ON
	NamedShadowNames              []string        `json:"namedShadowNames,omitempty"`    // the filter: which named shadows
	CustomFields                  json.RawMessage `json:"customFields,omitempty"`
	GeoLocations                  json.RawMessage `json:"geoLocations,omitempty"`
	ThingGroupIndexingMode        string          `json:"thingGroupIndexingMode"` // OFF, ON
	GroupCustomFields             json.RawMessage `json:"groupCustomFields,omitempty"`
}

// MaxIndexedNamedShadows is how many named shadows the index's filter may
// name (AWS).
const MaxIndexedNamedShadows = 10

// indexedShadowNameRule is a named shadow's name (the Device Shadow
// service's rule).
var indexedShadowNameRule = iot.NameRule{What: "filter.namedShadowNames", Min: 1, Max: 64, Pattern: regexp.MustCompile(`^[a-zA-Z0-9:_-]+$`)}

// defaultIndexing is the configuration of an account that never set one:
// everything off, as on AWS.
var defaultIndexing = IndexingConfiguration{ThingIndexingMode: "OFF", ThingConnectivityIndexingMode: "OFF",
	DeviceDefenderIndexingMode: "OFF", NamedShadowIndexingMode: "OFF", ThingGroupIndexingMode: "OFF"}

// IndexingConfiguration returns the fleet index's configuration.
func (s *Service) IndexingConfiguration(ctx context.Context) (IndexingConfiguration, error) {
	cfg := defaultIndexing
	err := s.view(ctx, func(tx Tx) error {
		v, err := tx.Setting(ctx, indexingSetting)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(v), &cfg); err != nil {
			return fmt.Errorf("the stored indexing configuration: %w", err)
		}
		return nil
	})
	return cfg, err
}

// IndexingUpdate is what UpdateIndexingConfiguration changes: the thing
// index's configuration when Thing is set, the group index's when Group
// is (AWS requires the mode of each configuration given).
type IndexingUpdate struct {
	Thing *IndexingConfiguration // its Thing... and NamedShadow..., DeviceDefender..., CustomFields, GeoLocations
	Group *IndexingConfiguration // its ThingGroupIndexingMode and GroupCustomFields
}

// UpdateIndexingConfiguration changes the fleet index's configuration.
func (s *Service) UpdateIndexingConfiguration(ctx context.Context, u IndexingUpdate) error {
	if t := u.Thing; t != nil {
		if err := checkIndexing(t); err != nil {
			return err
		}
	}
	if g := u.Group; g != nil {
		if err := oneOf("thingGroupIndexingConfiguration.thingGroupIndexingMode", g.ThingGroupIndexingMode, "OFF", "ON"); err != nil {
			return err
		}
		if g.ThingGroupIndexingMode == "" {
			return iot.Errorf(iot.InvalidRequest, "thingGroupIndexingConfiguration.thingGroupIndexingMode is required")
		}
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		cfg := defaultIndexing
		if v, err := tx.Setting(ctx, indexingSetting); err == nil {
			if err := json.Unmarshal([]byte(v), &cfg); err != nil {
				return fmt.Errorf("the stored indexing configuration: %w", err)
			}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if t := u.Thing; t != nil {
			group, groupFields := cfg.ThingGroupIndexingMode, cfg.GroupCustomFields
			cfg = *t
			cfg.ThingGroupIndexingMode, cfg.GroupCustomFields = group, groupFields
		}
		if g := u.Group; g != nil {
			cfg.ThingGroupIndexingMode, cfg.GroupCustomFields = g.ThingGroupIndexingMode, g.GroupCustomFields
		}
		data, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		c.emit(IndexingConfigurationChanged, "")
		return tx.PutSetting(ctx, indexingSetting, string(data), c.now)
	})
}

// checkIndexing checks a thing indexing configuration as AWS does: each
// mode one of its values, and the sources that need the registry index
// only with it.
func checkIndexing(t *IndexingConfiguration) error {
	if t.ThingIndexingMode == "" {
		return iot.Errorf(iot.InvalidRequest, "thingIndexingConfiguration.thingIndexingMode is required")
	}
	for _, c := range []struct {
		member, value string
		values        []string
	}{
		{"thingIndexingMode", t.ThingIndexingMode, []string{"OFF", "REGISTRY", "REGISTRY_AND_SHADOW"}},
		{"thingConnectivityIndexingMode", t.ThingConnectivityIndexingMode, []string{"OFF", "STATUS"}},
		{"deviceDefenderIndexingMode", t.DeviceDefenderIndexingMode, []string{"OFF", "VIOLATIONS"}},
		{"namedShadowIndexingMode", t.NamedShadowIndexingMode, []string{"OFF", "ON"}},
	} {
		if err := oneOf("thingIndexingConfiguration."+c.member, c.value, c.values...); err != nil {
			return err
		}
	}
	t.ThingConnectivityIndexingMode = cmpOr(t.ThingConnectivityIndexingMode, "OFF")
	t.DeviceDefenderIndexingMode = cmpOr(t.DeviceDefenderIndexingMode, "OFF")
	t.NamedShadowIndexingMode = cmpOr(t.NamedShadowIndexingMode, "OFF")
	off := t.ThingIndexingMode == "OFF"
	switch {
	case off && (t.ThingConnectivityIndexingMode != "OFF" || t.DeviceDefenderIndexingMode != "OFF" || t.NamedShadowIndexingMode != "OFF"):
		return iot.Errorf(iot.InvalidRequest, "connectivity, Device Defender and named-shadow indexing need thingIndexingMode REGISTRY or REGISTRY_AND_SHADOW")
	case t.NamedShadowIndexingMode == "ON" && t.ThingIndexingMode != "REGISTRY_AND_SHADOW":
		return iot.Errorf(iot.InvalidRequest, "namedShadowIndexingMode ON needs thingIndexingMode REGISTRY_AND_SHADOW")
	case len(t.NamedShadowNames) > MaxIndexedNamedShadows:
		return iot.Errorf(iot.InvalidRequest, "filter.namedShadowNames: at most %d names, got %d", MaxIndexedNamedShadows, len(t.NamedShadowNames))
	}
	for _, n := range t.NamedShadowNames {
		if err := indexedShadowNameRule.Check(n); err != nil {
			return err
		}
	}
	t.NamedShadowNames = slices.Compact(slices.Sorted(slices.Values(t.NamedShadowNames)))
	return nil
}
