package awsapi

import (
	"encoding/json"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

type thingTypeProperties struct {
	ThingTypeDescription string          `json:"thingTypeDescription,omitempty"`
	SearchableAttributes []string        `json:"searchableAttributes,omitempty"`
	Mqtt5Configuration   json.RawMessage `json:"mqtt5Configuration,omitempty"`
}

func createThingType(s *Server, r *request) (any, error) {
	var in struct {
		ThingTypeProperties *thingTypeProperties `json:"thingTypeProperties"`
		Tags                []iot.Tag            `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	tt := registry.ThingType{Name: r.label("thingTypeName")}
	if p := in.ThingTypeProperties; p != nil {
		tt.Description = p.ThingTypeDescription
		tt.SearchableAttributes = p.SearchableAttributes
		tt.PropagatingAttributes = string(p.Mqtt5Configuration)
	}
	out, err := s.Registry.CreateThingType(r.Context(), tt, in.Tags)
	if err != nil {
		return nil, err
	}
	return obj{"thingTypeName": out.Name, "thingTypeArn": s.Registry.Account.ThingTypeARN(out.Name), "thingTypeId": out.ID}, nil
}

func (s *Server) thingTypeDefinition(tt *registry.ThingType) obj {
	props := thingTypeProperties{ThingTypeDescription: tt.Description, SearchableAttributes: tt.SearchableAttributes}
	if tt.PropagatingAttributes != "" {
		props.Mqtt5Configuration = json.RawMessage(tt.PropagatingAttributes)
	}
	meta := obj{"deprecated": tt.Deprecated, "creationDate": epoch(tt.CreatedAt)}
	if !tt.DeprecatedAt.IsZero() {
		meta["deprecationDate"] = epoch(tt.DeprecatedAt)
	}
	return obj{
		"thingTypeName":       tt.Name,
		"thingTypeArn":        s.Registry.Account.ThingTypeARN(tt.Name),
		"thingTypeProperties": props,
		"thingTypeMetadata":   meta,
	}
}

func describeThingType(s *Server, r *request) (any, error) {
	tt, err := s.Registry.ThingType(r.Context(), r.label("thingTypeName"))
	if err != nil {
		return nil, err
	}
	out := s.thingTypeDefinition(tt)
	out["thingTypeId"] = tt.ID
	return out, nil
}

func listThingTypes(s *Server, r *request) (any, error) {
	return listing(r, tokens, "thingTypes", func(pr registry.PageRequest) ([]registry.ThingType, string, error) {
		return s.Registry.ListThingTypes(r.Context(), r.query("thingTypeName"), pr)
	}, func(tt registry.ThingType) obj { return s.thingTypeDefinition(&tt) })
}

func updateThingType(s *Server, r *request) (any, error) {
	var in struct {
		ThingTypeProperties *struct {
			ThingTypeDescription *string         `json:"thingTypeDescription"`
			SearchableAttributes *[]string       `json:"searchableAttributes"`
			Mqtt5Configuration   json.RawMessage `json:"mqtt5Configuration"`
		} `json:"thingTypeProperties"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var u registry.ThingTypeUpdate
	if p := in.ThingTypeProperties; p != nil {
		u.Description, u.SearchableAttributes = p.ThingTypeDescription, p.SearchableAttributes
		if len(p.Mqtt5Configuration) > 0 && string(p.Mqtt5Configuration) != "null" {
			m := string(p.Mqtt5Configuration)
			u.PropagatingAttributes = &m
		}
	}
	return nil, s.Registry.UpdateThingType(r.Context(), r.label("thingTypeName"), u)
}

func deprecateThingType(s *Server, r *request) (any, error) {
	var in struct {
		UndoDeprecate bool `json:"undoDeprecate"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.Registry.DeprecateThingType(r.Context(), r.label("thingTypeName"), in.UndoDeprecate)
}

func deleteThingType(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeleteThingType(r.Context(), r.label("thingTypeName"))
}
