package awsapi

import (
	"context"
	"encoding/json"

	"github.com/iotcore/iotcore/internal/fleetindex"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// FleetIndex answers SearchIndex (package thingindex, through
// internal/server).
type FleetIndex interface {
	Search(ctx context.Context, index, query, token string, size int) (*fleetindex.Result, error)
}

// thingIndexingConfiguration is the wire shape of
// ThingIndexingConfiguration; managedFields are iotcore's to say.
type thingIndexingConfiguration struct {
	ThingIndexingMode             string          `json:"thingIndexingMode"`
	ThingConnectivityIndexingMode string          `json:"thingConnectivityIndexingMode,omitempty"`
	DeviceDefenderIndexingMode    string          `json:"deviceDefenderIndexingMode,omitempty"`
	NamedShadowIndexingMode       string          `json:"namedShadowIndexingMode,omitempty"`
	ManagedFields                 []indexField    `json:"managedFields,omitempty"`
	CustomFields                  json.RawMessage `json:"customFields,omitempty"`
	Filter                        *indexingFilter `json:"filter,omitempty"`
}

type indexingFilter struct {
	NamedShadowNames []string        `json:"namedShadowNames,omitempty"`
	GeoLocations     json.RawMessage `json:"geoLocations,omitempty"`
}

type thingGroupIndexingConfiguration struct {
	ThingGroupIndexingMode string          `json:"thingGroupIndexingMode"`
	ManagedFields          []indexField    `json:"managedFields,omitempty"`
	CustomFields           json.RawMessage `json:"customFields,omitempty"`
}

type indexField struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// managedThingFields are the fields the AWS_Things index holds for the
// sources a configuration turns on (AWS's managed fields).
func managedThingFields(c registry.IndexingConfiguration) []indexField {
	if c.ThingIndexingMode == "OFF" {
		return nil
	}
	f := []indexField{{"thingId", "String"}, {"thingName", "String"}, {"registry.version", "Number"},
		{"registry.thingTypeName", "String"}, {"registry.thingGroupNames", "String"}}
	if c.ThingIndexingMode == "REGISTRY_AND_SHADOW" {
		f = append(f, indexField{"shadow.version", "Number"}, indexField{"shadow.hasDelta", "Boolean"})
		if c.NamedShadowIndexingMode == "ON" {
			f = append(f, indexField{"shadow.name.*.version", "Number"}, indexField{"shadow.name.*.hasDelta", "Boolean"})
		}
	}
	if c.ThingConnectivityIndexingMode == "STATUS" {
		f = append(f, indexField{"connectivity.timestamp", "Number"}, indexField{"connectivity.version", "Number"},
			indexField{"connectivity.connected", "Boolean"}, indexField{"connectivity.disconnectReason", "String"})
	}
	return f
}

func getIndexingConfiguration(s *Server, r *request) (any, error) {
	c, err := s.Registry.IndexingConfiguration(r.Context())
	if err != nil {
		return nil, err
	}
	thing := thingIndexingConfiguration{
		ThingIndexingMode: c.ThingIndexingMode, ThingConnectivityIndexingMode: c.ThingConnectivityIndexingMode,
		DeviceDefenderIndexingMode: c.DeviceDefenderIndexingMode, NamedShadowIndexingMode: c.NamedShadowIndexingMode,
		ManagedFields: managedThingFields(c), CustomFields: c.CustomFields,
	}
	if len(c.NamedShadowNames) > 0 || len(c.GeoLocations) > 0 {
		thing.Filter = &indexingFilter{NamedShadowNames: c.NamedShadowNames, GeoLocations: c.GeoLocations}
	}
	group := thingGroupIndexingConfiguration{ThingGroupIndexingMode: c.ThingGroupIndexingMode, CustomFields: c.GroupCustomFields}
	if c.ThingGroupIndexingMode == "ON" {
		group.ManagedFields = []indexField{{"thingGroupName", "String"}, {"thingGroupId", "String"},
			{"thingGroupDescription", "String"}, {"parentGroupNames", "String"}, {"version", "Number"}}
	}
	return obj{"thingIndexingConfiguration": thing, "thingGroupIndexingConfiguration": group}, nil
}

func updateIndexingConfiguration(s *Server, r *request) (any, error) {
	var in struct {
		Thing *thingIndexingConfiguration      `json:"thingIndexingConfiguration"`
		Group *thingGroupIndexingConfiguration `json:"thingGroupIndexingConfiguration"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var u registry.IndexingUpdate
	if t := in.Thing; t != nil {
		u.Thing = &registry.IndexingConfiguration{ThingIndexingMode: t.ThingIndexingMode,
			ThingConnectivityIndexingMode: t.ThingConnectivityIndexingMode, DeviceDefenderIndexingMode: t.DeviceDefenderIndexingMode,
			NamedShadowIndexingMode: t.NamedShadowIndexingMode, CustomFields: t.CustomFields}
		if t.Filter != nil {
			u.Thing.NamedShadowNames, u.Thing.GeoLocations = t.Filter.NamedShadowNames, t.Filter.GeoLocations
		}
	}
	if g := in.Group; g != nil {
		u.Group = &registry.IndexingConfiguration{ThingGroupIndexingMode: g.ThingGroupIndexingMode, GroupCustomFields: g.CustomFields}
	}
	return nil, s.Registry.UpdateIndexingConfiguration(r.Context(), u)
}

func searchIndex(s *Server, r *request) (any, error) {
	var in struct {
		IndexName    string `json:"indexName"`
		QueryString  string `json:"queryString"`
		NextToken    string `json:"nextToken"`
		MaxResults   int    `json:"maxResults"`
		QueryVersion string `json:"queryVersion"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.QueryString == "" {
		return nil, iot.Errorf(iot.InvalidRequest, "queryString is required")
	}
	if s.Index == nil {
		return nil, iot.Errorf(iot.ServiceUnavailable, "this iotcore API has no fleet index")
	}
	res, err := s.Index.Search(r.Context(), in.IndexName, in.QueryString, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := obj{}
	if res.Things != nil {
		things := make([]obj, 0, len(res.Things))
		for _, t := range res.Things {
			d := obj{"thingName": t.Name, "thingId": t.ID, "attributes": orEmpty(t.Attributes), "thingGroupNames": noNil(t.Groups)}
			if t.TypeName != "" {
				d["thingTypeName"] = t.TypeName
			}
			if t.Shadow != "" {
				d["shadow"] = t.Shadow
			}
			if c := t.Connectivity; c != nil {
				conn := obj{"connected": c.Connected, "timestamp": c.Timestamp}
				if c.DisconnectReason != "" {
					conn["disconnectReason"] = c.DisconnectReason
				}
				d["connectivity"] = conn
			}
			things = append(things, d)
		}
		out["things"] = things
	}
	if res.Groups != nil {
		groups := make([]obj, 0, len(res.Groups))
		for _, g := range res.Groups {
			d := obj{"thingGroupName": g.Name, "thingGroupId": g.ID, "attributes": orEmpty(g.Attributes), "parentGroupNames": noNil(g.ParentNames)}
			if g.Description != "" {
				d["thingGroupDescription"] = g.Description
			}
			groups = append(groups, d)
		}
		out["thingGroups"] = groups
	}
	return withNext(out, "nextToken", res.Next), nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func noNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
