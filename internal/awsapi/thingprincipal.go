package awsapi

import "github.com/iotcore/iotcore/internal/registry"

const principalHeader = "x-amzn-principal"

func attachThingPrincipal(s *Server, r *request) (any, error) {
	return nil, s.Registry.AttachThingPrincipal(r.Context(), r.label("thingName"), r.Header.Get(principalHeader), r.query("thingPrincipalType"))
}

func detachThingPrincipal(s *Server, r *request) (any, error) {
	return nil, s.Registry.DetachThingPrincipal(r.Context(), r.label("thingName"), r.Header.Get(principalHeader))
}

// thingPrincipals and principalThings answer the thing-principal listings,
// in their first form (names) and their V2 form (objects with the type).
func (s *Server) thingPrincipals(r *request, member string, render func(registry.ThingPrincipal) any) (any, error) {
	return listing(r, tokens, member, func(pr registry.PageRequest) ([]registry.ThingPrincipal, string, error) {
		return s.Registry.ListThingPrincipals(r.Context(), r.label("thingName"), r.query("thingPrincipalType"), pr)
	}, render)
}

func listThingPrincipals(s *Server, r *request) (any, error) {
	return s.thingPrincipals(r, "principals", func(tp registry.ThingPrincipal) any { return tp.Principal })
}

func listThingPrincipalsV2(s *Server, r *request) (any, error) {
	return s.thingPrincipals(r, "thingPrincipalObjects", func(tp registry.ThingPrincipal) any {
		return obj{"principal": tp.Principal, "thingPrincipalType": tp.Type}
	})
}

func (s *Server) principalThings(r *request, member string, render func(registry.ThingPrincipal) any) (any, error) {
	return listing(r, tokens, member, func(pr registry.PageRequest) ([]registry.ThingPrincipal, string, error) {
		return s.Registry.ListPrincipalThings(r.Context(), r.Header.Get(principalHeader), r.query("thingPrincipalType"), pr)
	}, render)
}

func listPrincipalThings(s *Server, r *request) (any, error) {
	return s.principalThings(r, "things", func(tp registry.ThingPrincipal) any { return tp.ThingName })
}

func listPrincipalThingsV2(s *Server, r *request) (any, error) {
	return s.principalThings(r, "principalThingObjects", func(tp registry.ThingPrincipal) any {
		return obj{"thingName": tp.ThingName, "thingPrincipalType": tp.Type}
	})
}
