package awsapi

import (
	"github.com/iotcore/iotcore/internal/registry"
)

type attributePayload struct {
	Attributes map[string]string `json:"attributes"`
	Merge      bool              `json:"merge"`
}

func createThing(s *Server, r *request) (any, error) {
	var in struct {
		ThingTypeName    string            `json:"thingTypeName"`
		AttributePayload *attributePayload `json:"attributePayload"`
		BillingGroupName string            `json:"billingGroupName"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	ci := registry.CreateThingInput{Name: r.label("thingName"), TypeName: in.ThingTypeName, BillingGroupName: in.BillingGroupName}
	if in.AttributePayload != nil {
		ci.Attributes = in.AttributePayload.Attributes
	}
	t, err := s.Registry.CreateThing(r.Context(), ci)
	if err != nil {
		return nil, err
	}
	return obj{"thingName": t.Name, "thingArn": s.Registry.Account.ThingARN(t.Name), "thingId": t.ID}, nil
}

func describeThing(s *Server, r *request) (any, error) {
	t, err := s.Registry.Thing(r.Context(), r.label("thingName"))
	if err != nil {
		return nil, err
	}
	out := obj{
		"defaultClientId": t.Name,
		"thingName":       t.Name,
		"thingId":         t.ID,
		"thingArn":        s.Registry.Account.ThingARN(t.Name),
		"attributes":      t.Attributes,
		"version":         t.Version,
	}
	if t.TypeName != "" {
		out["thingTypeName"] = t.TypeName
	}
	if t.BillingGroupName != "" {
		out["billingGroupName"] = t.BillingGroupName
	}
	return out, nil
}

func listThings(s *Server, r *request) (any, error) {
	prefix, err := r.queryBool("usePrefixAttributeValue")
	if err != nil {
		return nil, err
	}
	return listing(r, tokens, "things", func(pr registry.PageRequest) ([]registry.Thing, string, error) {
		return s.Registry.ListThings(r.Context(), registry.ThingFilter{
			TypeName:       r.query("thingTypeName"),
			AttributeName:  r.query("attributeName"),
			AttributeValue: r.query("attributeValue"),
			ValuePrefix:    prefix,
		}, pr)
	}, func(t registry.Thing) obj {
		o := obj{"thingName": t.Name, "thingArn": s.Registry.Account.ThingARN(t.Name), "attributes": t.Attributes, "version": t.Version}
		if t.TypeName != "" {
			o["thingTypeName"] = t.TypeName
		}
		return o
	})
}

func updateThing(s *Server, r *request) (any, error) {
	var in struct {
		ThingTypeName    string            `json:"thingTypeName"`
		AttributePayload *attributePayload `json:"attributePayload"`
		ExpectedVersion  *int64            `json:"expectedVersion"`
		RemoveThingType  bool              `json:"removeThingType"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	ui := registry.UpdateThingInput{
		Name:            r.label("thingName"),
		TypeName:        in.ThingTypeName,
		RemoveThingType: in.RemoveThingType,
		ExpectedVersion: in.ExpectedVersion,
	}
	if in.AttributePayload != nil {
		ui.Attributes = in.AttributePayload.Attributes
		if ui.Attributes == nil {
			ui.Attributes = map[string]string{}
		}
		ui.Merge = in.AttributePayload.Merge
	}
	return nil, s.Registry.UpdateThing(r.Context(), ui)
}

func deleteThing(s *Server, r *request) (any, error) {
	v, ok, err := r.queryInt("expectedVersion")
	if err != nil {
		return nil, err
	}
	var expected *int64
	if ok {
		expected = &v
	}
	return nil, s.Registry.DeleteThing(r.Context(), r.label("thingName"), expected)
}
