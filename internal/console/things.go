package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// things lists things, searched by name prefix, type and attribute, or
// by a fleet-indexing query (?q=), one page at a time.
func (c *Console) things(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	if query := strings.TrimSpace(q.Get("q")); query != "" && c.cfg.Index != nil {
		c.searchThings(w, r, s, query)
		return
	}
	f := registry.ThingFilter{
		NamePrefix:    strings.TrimSpace(q.Get("prefix")),
		TypeName:      strings.TrimSpace(q.Get("type")),
		AttributeName: strings.TrimSpace(q.Get("attr")),
	}
	if f.AttributeName != "" {
		f.AttributeValue = q.Get("value")
		f.ValuePrefix = strings.HasSuffix(f.AttributeValue, "*")
		f.AttributeValue = strings.TrimSuffix(f.AttributeValue, "*")
	}
	rows, next, err := c.cfg.Registry.ListThings(r.Context(), f, pageRequest(r))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "things", map[string]any{"Title": "Things", "List": newListing(r, rows, next), "Filter": f,
		"Value": q.Get("value"), "Searchable": c.cfg.Index != nil})
}

// searchThings answers the things page's query search from the fleet
// index, as SearchIndex does: the same engine, query language, results
// and errors. A query the language refuses, or an index that is off,
// shows the page again with AWS's message, so the operator can fix it.
func (c *Console) searchThings(w http.ResponseWriter, r *http.Request, s *session, query string) {
	res, err := c.cfg.Index.Search(r.Context(), "AWS_Things", query, r.URL.Query().Get("next"), listPageSize)
	data := map[string]any{"Title": "Things", "Query": query, "Searchable": true}
	var e *iot.Error
	switch {
	case err == nil:
		data["Found"] = newListing(r, res.Things, res.Next)
		c.render(w, r, s, http.StatusOK, "things", data)
	case errors.As(err, &e) && e.Code == iot.ResourceNotFound:
		data["IndexOff"] = true
		c.render(w, r, s, http.StatusConflict, "things", data)
	case errors.As(err, &e) && (e.Code == iot.InvalidQuery || e.Code == iot.InvalidRequest):
		data["QueryError"] = e.Message
		c.render(w, r, s, http.StatusBadRequest, "things", data)
	default:
		c.failErr(w, r, s, err)
	}
}

// thingPrincipal is a principal of a thing with, for a certificate, its
// status.
type thingPrincipal struct {
	registry.ThingPrincipal
	CertificateID string
	Status        string
}

// thing shows one thing: attributes, type, groups, principals, whether it
// is connected, and its recent provisioning attempts.
func (c *Console) thing(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	reg := c.cfg.Registry
	name := r.PathValue("name")
	th, err := reg.Thing(ctx, name)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	groups, _, err := reg.ListThingGroupsForThing(ctx, name, registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	principals, _, err := reg.ListThingPrincipals(ctx, name, "", registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	var ps []thingPrincipal
	var attempts []registry.ProvisioningAttempt
	for _, p := range principals {
		tp := thingPrincipal{ThingPrincipal: p}
		if id, ok := strings.CutPrefix(p.Principal, reg.Account.ARN("cert/")); ok {
			tp.CertificateID = id
			if cert, err := reg.Certificate(ctx, id); err == nil {
				tp.Status = cert.Status
			}
			a, _, err := reg.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{CertificateID: id}, registry.PageRequest{Size: 5})
			if err == nil {
				attempts = append(attempts, a...)
			}
		}
		ps = append(ps, tp)
	}
	shadows, err := c.thingShadows(ctx, name)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "thing", map[string]any{"Title": "Thing " + name, "Nav": "things", "Thing": th, "Shadows": shadows,
		"ARN": reg.Account.ThingARN(name), "Groups": groups, "Principals": ps, "Attempts": attempts,
		"Connections": c.connectionsOf(name)})
}

// connectionsOf finds the connections of a thing: those whose client id is
// its name, as AWS's thing-name policy variable assumes.
func (c *Console) connectionsOf(thing string) []broker.Connection {
	if c.cfg.Connections == nil {
		return nil
	}
	var out []broker.Connection
	conns, _ := c.cfg.Connections.Connections(broker.ConnectionPage{Prefix: thing, Limit: 100})
	for _, conn := range conns {
		if conn.ClientID == thing {
			out = append(out, conn)
		}
	}
	return out
}
