package awsapi

import (
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

type billingGroupProperties struct {
	BillingGroupDescription string `json:"billingGroupDescription,omitempty"`
}

func (s *Server) billingGroupARN(name string) string {
	return registry.BillingGroupARN(s.Registry.Account, name)
}

func createBillingGroup(s *Server, r *request) (any, error) {
	var in struct {
		BillingGroupProperties *billingGroupProperties `json:"billingGroupProperties"`
		Tags                   []iot.Tag               `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	g := registry.BillingGroup{Name: r.label("billingGroupName")}
	if p := in.BillingGroupProperties; p != nil {
		g.Description = p.BillingGroupDescription
	}
	out, err := s.Registry.CreateBillingGroup(r.Context(), g, in.Tags)
	if err != nil {
		return nil, err
	}
	return obj{"billingGroupName": out.Name, "billingGroupArn": s.billingGroupARN(out.Name), "billingGroupId": out.ID}, nil
}

func describeBillingGroup(s *Server, r *request) (any, error) {
	g, err := s.Registry.BillingGroup(r.Context(), r.label("billingGroupName"))
	if err != nil {
		return nil, err
	}
	return obj{
		"billingGroupName":       g.Name,
		"billingGroupId":         g.ID,
		"billingGroupArn":        s.billingGroupARN(g.Name),
		"version":                g.Version,
		"billingGroupProperties": billingGroupProperties{BillingGroupDescription: g.Description},
		"billingGroupMetadata":   obj{"creationDate": epoch(g.CreatedAt)},
	}, nil
}

func updateBillingGroup(s *Server, r *request) (any, error) {
	var in struct {
		BillingGroupProperties *billingGroupProperties `json:"billingGroupProperties"`
		ExpectedVersion        *int64                  `json:"expectedVersion"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.BillingGroupProperties == nil {
		return nil, iot.Errorf(iot.InvalidRequest, "billingGroupProperties is required")
	}
	v, err := s.Registry.UpdateBillingGroup(r.Context(), r.label("billingGroupName"), in.BillingGroupProperties.BillingGroupDescription, in.ExpectedVersion)
	if err != nil {
		return nil, err
	}
	return obj{"version": v}, nil
}

func deleteBillingGroup(s *Server, r *request) (any, error) {
	v, ok, err := r.queryInt("expectedVersion")
	if err != nil {
		return nil, err
	}
	var expected *int64
	if ok {
		expected = &v
	}
	return nil, s.Registry.DeleteBillingGroup(r.Context(), r.label("billingGroupName"), expected)
}

func listBillingGroups(s *Server, r *request) (any, error) {
	return listing(r, tokens, "billingGroups", func(pr registry.PageRequest) ([]registry.BillingGroup, string, error) {
		return s.Registry.ListBillingGroups(r.Context(), r.query("namePrefixFilter"), pr)
	}, func(g registry.BillingGroup) obj {
		return obj{"groupName": g.Name, "groupArn": s.billingGroupARN(g.Name)}
	})
}

func billingGroupMembership(r *request) (registry.BillingGroupMembership, error) {
	var in struct {
		BillingGroupName string `json:"billingGroupName"`
		BillingGroupArn  string `json:"billingGroupArn"`
		ThingName        string `json:"thingName"`
		ThingArn         string `json:"thingArn"`
	}
	err := r.decode(&in)
	return registry.BillingGroupMembership{GroupName: in.BillingGroupName, GroupARN: in.BillingGroupArn, ThingName: in.ThingName, ThingARN: in.ThingArn}, err
}

func addThingToBillingGroup(s *Server, r *request) (any, error) {
	m, err := billingGroupMembership(r)
	if err != nil {
		return nil, err
	}
	return nil, s.Registry.AddThingToBillingGroup(r.Context(), m)
}

func removeThingFromBillingGroup(s *Server, r *request) (any, error) {
	m, err := billingGroupMembership(r)
	if err != nil {
		return nil, err
	}
	return nil, s.Registry.RemoveThingFromBillingGroup(r.Context(), m)
}

func listThingsInBillingGroup(s *Server, r *request) (any, error) {
	return listing(r, tokens, "things", func(pr registry.PageRequest) ([]string, string, error) {
		return s.Registry.ListThingsInBillingGroup(r.Context(), r.label("billingGroupName"), pr)
	}, same)
}
