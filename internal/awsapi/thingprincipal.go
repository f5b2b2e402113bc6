package awsapi

import "github.com/iotcore/iotcore/internal/registry"

const principalHeader = "x-amzn-principal"

func attachThingPrincipal(s *Server, r *request) (any, error) {
	return nil, s.Registry.AttachThingPrincipal(r.Context(), r.label("thingName"), r.Header.Get(principalHeader), r.query("thingPrincipalType"))
}

func detachThingPrincipal(s *Server, r *request) (any, error) {
	return nil, s.Registry.DetachThingPrincipal(r.Context(), r.label("thingName"), r.Header.Get(principalHeader))
}

func (s *Server) thingPrincipals(r *request) ([]registry.ThingPrincipal, string, error) {
	pr, err := r.tokenPage()
	if err != nil {
		return nil, "", err
	}
	return s.Registry.ListThingPrincipals(r.Context(), r.label("thingName"), r.query("thingPrincipalType"), pr)
}

func listThingPrincipals(s *Server, r *request) (any, error) {
	rows, next, err := s.thingPrincipals(r)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, tp := range rows {
		out = append(out, tp.Principal)
	}
	return withNext(obj{"principals": out}, "nextToken", next), nil
}

func listThingPrincipalsV2(s *Server, r *request) (any, error) {
	rows, next, err := s.thingPrincipals(r)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(rows))
	for _, tp := range rows {
		out = append(out, obj{"principal": tp.Principal, "thingPrincipalType": tp.Type})
	}
	return withNext(obj{"thingPrincipalObjects": out}, "nextToken", next), nil
}

func (s *Server) principalThings(r *request) ([]registry.ThingPrincipal, string, error) {
	pr, err := r.tokenPage()
	if err != nil {
		return nil, "", err
	}
	return s.Registry.ListPrincipalThings(r.Context(), r.Header.Get(principalHeader), r.query("thingPrincipalType"), pr)
}

func listPrincipalThings(s *Server, r *request) (any, error) {
	rows, next, err := s.principalThings(r)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, tp := range rows {
		out = append(out, tp.ThingName)
	}
	return withNext(obj{"things": out}, "nextToken", next), nil
}

func listPrincipalThingsV2(s *Server, r *request) (any, error) {
	rows, next, err := s.principalThings(r)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(rows))
	for _, tp := range rows {
		out = append(out, obj{"thingName": tp.ThingName, "thingPrincipalType": tp.Type})
	}
	return withNext(obj{"principalThingObjects": out}, "nextToken", next), nil
}
