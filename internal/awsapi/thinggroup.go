package awsapi

import (
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

type thingGroupProperties struct {
	ThingGroupDescription string            `json:"thingGroupDescription,omitempty"`
	AttributePayload      *attributePayload `json:"attributePayload,omitempty"`
}

func createThingGroup(s *Server, r *request) (any, error) {
	var in struct {
		ParentGroupName      string                `json:"parentGroupName"`
		ThingGroupProperties *thingGroupProperties `json:"thingGroupProperties"`
		Tags                 []iot.Tag             `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	g := registry.ThingGroup{Name: r.label("thingGroupName"), ParentName: in.ParentGroupName}
	if p := in.ThingGroupProperties; p != nil {
		g.Description = p.ThingGroupDescription
		if p.AttributePayload != nil {
			g.Attributes = p.AttributePayload.Attributes
		}
	}
	out, err := s.Registry.CreateThingGroup(r.Context(), g, in.Tags)
	if err != nil {
		return nil, err
	}
	return obj{"thingGroupName": out.Name, "thingGroupArn": s.Registry.Account.ThingGroupARN(out.Name), "thingGroupId": out.ID}, nil
}

func (s *Server) groupRef(name string) obj {
	return obj{"groupName": name, "groupArn": s.Registry.Account.ThingGroupARN(name)}
}

func describeThingGroup(s *Server, r *request) (any, error) {
	g, err := s.Registry.ThingGroup(r.Context(), r.label("thingGroupName"))
	if err != nil {
		return nil, err
	}
	meta := obj{"creationDate": epoch(g.CreatedAt)}
	if g.ParentName != "" {
		meta["parentGroupName"] = g.ParentName
		refs := make([]obj, 0, len(g.RootToParent))
		for _, name := range g.RootToParent {
			refs = append(refs, s.groupRef(name))
		}
		meta["rootToParentThingGroups"] = refs
	}
	return obj{
		"thingGroupName": g.Name,
		"thingGroupId":   g.ID,
		"thingGroupArn":  s.Registry.Account.ThingGroupARN(g.Name),
		"version":        g.Version,
		"thingGroupProperties": thingGroupProperties{
			ThingGroupDescription: g.Description,
			AttributePayload:      &attributePayload{Attributes: g.Attributes},
		},
		"thingGroupMetadata": meta,
		"status":             "ACTIVE",
	}, nil
}

func updateThingGroup(s *Server, r *request) (any, error) {
	var in struct {
		ThingGroupProperties *thingGroupProperties `json:"thingGroupProperties"`
		ExpectedVersion      *int64                `json:"expectedVersion"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.ThingGroupProperties == nil {
		return nil, iot.Errorf(iot.InvalidRequest, "thingGroupProperties is required")
	}
	var attrs map[string]string
	merge := false
	if ap := in.ThingGroupProperties.AttributePayload; ap != nil {
		attrs, merge = ap.Attributes, ap.Merge
		if attrs == nil {
			attrs = map[string]string{}
		}
	}
	v, err := s.Registry.UpdateThingGroup(r.Context(), r.label("thingGroupName"), in.ThingGroupProperties.ThingGroupDescription, attrs, merge, in.ExpectedVersion)
	if err != nil {
		return nil, err
	}
	return obj{"version": v}, nil
}

func listThingGroups(s *Server, r *request) (any, error) {
	recursive, err := r.queryBool("recursive")
	if err != nil {
		return nil, err
	}
	return listing(r, tokens, "thingGroups", func(pr registry.PageRequest) ([]registry.ThingGroup, string, error) {
		return s.Registry.ListThingGroups(r.Context(), r.query("parentGroup"), r.query("namePrefixFilter"), recursive, pr)
	}, func(g registry.ThingGroup) obj { return s.groupRef(g.Name) })
}

func deleteThingGroup(s *Server, r *request) (any, error) {
	v, ok, err := r.queryInt("expectedVersion")
	if err != nil {
		return nil, err
	}
	var expected *int64
	if ok {
		expected = &v
	}
	return nil, s.Registry.DeleteThingGroup(r.Context(), r.label("thingGroupName"), expected)
}

func membership(r *request) (registry.GroupMembership, error) {
	var in struct {
		ThingGroupName string `json:"thingGroupName"`
		ThingGroupArn  string `json:"thingGroupArn"`
		ThingName      string `json:"thingName"`
		ThingArn       string `json:"thingArn"`
	}
	err := r.decode(&in)
	return registry.GroupMembership{GroupName: in.ThingGroupName, GroupARN: in.ThingGroupArn, ThingName: in.ThingName, ThingARN: in.ThingArn}, err
}

func addThingToThingGroup(s *Server, r *request) (any, error) {
	m, err := membership(r)
	if err != nil {
		return nil, err
	}
	return nil, s.Registry.AddThingToThingGroup(r.Context(), m)
}

func removeThingFromThingGroup(s *Server, r *request) (any, error) {
	m, err := membership(r)
	if err != nil {
		return nil, err
	}
	return nil, s.Registry.RemoveThingFromThingGroup(r.Context(), m)
}

func updateThingGroupsForThing(s *Server, r *request) (any, error) {
	var in struct {
		ThingName             string   `json:"thingName"`
		ThingGroupsToAdd      []string `json:"thingGroupsToAdd"`
		ThingGroupsToRemove   []string `json:"thingGroupsToRemove"`
		OverrideDynamicGroups bool     `json:"overrideDynamicGroups"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	// overrideDynamicGroups matters only with dynamic groups, which
	// iotcore does not have.
	return nil, s.Registry.UpdateThingGroupsForThing(r.Context(), in.ThingName, in.ThingGroupsToAdd, in.ThingGroupsToRemove)
}

func listThingsInThingGroup(s *Server, r *request) (any, error) {
	recursive, err := r.queryBool("recursive")
	if err != nil {
		return nil, err
	}
	return listing(r, tokens, "things", func(pr registry.PageRequest) ([]string, string, error) {
		return s.Registry.ListThingsInThingGroup(r.Context(), r.label("thingGroupName"), recursive, pr)
	}, same)
}

func listThingGroupsForThing(s *Server, r *request) (any, error) {
	return listing(r, tokens, "thingGroups", func(pr registry.PageRequest) ([]string, string, error) {
		return s.Registry.ListThingGroupsForThing(r.Context(), r.label("thingName"), pr)
	}, s.groupRef)
}
