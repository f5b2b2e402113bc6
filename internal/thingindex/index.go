// Package thingindex is iotcore's fleet index: the AWS_Things and
// AWS_ThingGroups indexes that SearchIndex queries with the fleet-indexing
// query language (package fleetindex).
//
// The AWS_Things index is kept in memory while thing indexing is on
// (UpdateIndexingConfiguration): built from the registry at the first
// search, then kept up to date from the registry's change events (a thing,
// its groups or its shadows changed: reloaded before the next search), on
// every node of a cluster alike since the events reach them all; and from
// the connections this node admits and ends (connectivity.*). As on AWS it
// is eventually consistent, but here "eventually" is the next search. The
// AWS_ThingGroups index is small and read from the registry at each
// search.
package thingindex

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotcore/iotcore/internal/fleetindex"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// Index names (AWS's).
const (
	ThingsIndex      = "AWS_Things"
	ThingGroupsIndex = "AWS_ThingGroups"
)

// Page sizes of SearchIndex (AWS uncertain: the model bounds maxResults
// only below; AWS's reference says a page never exceeds 100).
const (
	DefaultResults = 100
	MaxResults     = 100
)

// Index answers SearchIndex. Registry must be set; the zero value is
// otherwise ready.
type Index struct {
	Registry *registry.Service
	Logger   *slog.Logger

	mu     sync.Mutex
	built  bool // things holds every thing as of the last search, but stale
	things map[string]*entry
	names  []string // the things' names, sorted when !unsorted
	// unsorted: names has new entries at its end.
	unsorted bool

	// The registry's changes, kept apart from mu: they arrive with every
	// committed write (a provisioned device, a shadow update), which must
	// not wait for a search's scan. refresh takes them under mu.
	tracking  atomic.Bool // the index is built or being built: changes are kept
	changesMu sync.Mutex
	changed   map[string]bool // things changed since they were loaded (changesMu)
	rebuild   bool            // everything must be loaded again (changesMu)

	// conn holds each client id's connectivity (*fleetindex.Connectivity,
	// never changed once stored): written on every connect and disconnect,
	// so without mu, which a search holds for its whole scan.
	conn sync.Map
}

// entry is one thing of the index, and its shadows as AWS returns them.
type entry struct {
	doc    fleetindex.Thing
	shadow string // the "shadow" member of a result: JSON, "" without one
}

// Connected records that a device with clientID connected (or, with
// connected false, disconnected for reason) at at: connectivity.* of the
// thing of that name, as AWS reads it.
func (x *Index) Connected(clientID string, connected bool, at time.Time, reason string) {
	next := &fleetindex.Connectivity{Connected: connected, Timestamp: at.UnixMilli(), Version: 1}
	if !connected {
		next.DisconnectReason = reason
	}
	for {
		v, loaded := x.conn.LoadOrStore(clientID, next)
		if !loaded {
			return
		}
		prev := v.(*fleetindex.Connectivity)
		if next.Timestamp < prev.Timestamp {
			return // an older event, late
		}
		next.Version = prev.Version + 1
		if x.conn.CompareAndSwap(clientID, prev, next) {
			return
		}
	}
}

// OnRegistryChange takes the registry's committed changes, this node's
// and the others': the things they name are loaded again before the next
// search; a new configuration or a deleted group rebuilds the index. It
// costs an atomic load while no index is built (indexing unused).
func (x *Index) OnRegistryChange(events []registry.Event) {
	if !x.tracking.Load() {
		return
	}
	x.changesMu.Lock()
	defer x.changesMu.Unlock()
	for _, e := range events {
		switch e.Kind {
		case registry.ThingChanged, registry.ShadowChanged:
			if x.changed == nil {
				x.changed = map[string]bool{}
			}
			x.changed[e.ID] = true
		case registry.IndexingConfigurationChanged:
			x.rebuildLocked()
			return
		case registry.AttachmentsChanged:
			// A thing group deleted: its things' groups changed.
			if strings.HasPrefix(e.ID, x.Registry.Account.ThingGroupARN("")) {
				x.rebuildLocked()
				return
			}
		}
	}
}

// rebuildLocked asks for everything to be loaded again at the next search;
// until then, changes need not be kept. The caller holds changesMu.
func (x *Index) rebuildLocked() {
	x.rebuild, x.changed = true, nil
	x.tracking.Store(false)
}

// Search runs query on the index named (AWS_Things when empty), one page
// of at most size results after token (0: DefaultResults).
func (x *Index) Search(ctx context.Context, index, query, token string, size int) (*fleetindex.Result, error) {
	switch {
	case size == 0:
		size = DefaultResults
	case size < 1 || size > MaxResults:
		return nil, iot.Errorf(iot.InvalidRequest, "maxResults must be between 1 and %d, got %d", MaxResults, size)
	}
	after := ""
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) == 0 {
			return nil, iot.Errorf(iot.InvalidRequest, "the pagination token %q is not valid", token)
		}
		after = string(b)
	}
	if index == "" {
		index = ThingsIndex
	}
	cfg, err := x.Registry.IndexingConfiguration(ctx)
	if err != nil {
		return nil, err
	}
	switch index {
	case ThingsIndex:
		if cfg.ThingIndexingMode == "OFF" {
			return nil, iot.NotFound("index", index) // AWS uncertain: an index that is off does not exist
		}
	case ThingGroupsIndex:
		if cfg.ThingGroupIndexingMode != "ON" {
			return nil, iot.NotFound("index", index)
		}
	default:
		return nil, iot.NotFound("index", index)
	}
	q, err := fleetindex.Parse(query)
	if err != nil {
		return nil, err
	}
	if index == ThingGroupsIndex {
		return x.searchGroups(ctx, q, after, size)
	}
	return x.searchThings(ctx, q, cfg, after, size)
}

func nextToken(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

func (x *Index) searchThings(ctx context.Context, q *fleetindex.Query, cfg registry.IndexingConfiguration, after string, size int) (*fleetindex.Result, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.refresh(ctx, cfg); err != nil {
		return nil, err
	}
	if x.unsorted {
		slices.Sort(x.names)
		x.unsorted = false
	}
	start, _ := slices.BinarySearch(x.names, after)
	if after != "" && start < len(x.names) && x.names[start] == after {
		start++
	}
	connectivity := cfg.ThingConnectivityIndexingMode == "STATUS"
	out := &fleetindex.Result{Things: []fleetindex.Found{}}
	for _, name := range x.names[start:] {
		e := x.things[name]
		e.doc.Connectivity = nil
		if connectivity {
			if c, ok := x.conn.Load(name); ok {
				e.doc.Connectivity = c.(*fleetindex.Connectivity)
			}
		}
		if !q.Match(&e.doc) {
			continue
		}
		if len(out.Things) == size {
			out.Next = nextToken(out.Things[size-1].Name)
			break
		}
		out.Things = append(out.Things, fleetindex.Found{Thing: e.doc, Shadow: e.shadow})
	}
	return out, nil
}

// refresh makes the index hold every thing as the registry has it now:
// all of them the first time (or after a rebuild), then those changed
// since. The caller holds mu.
func (x *Index) refresh(ctx context.Context, cfg registry.IndexingConfiguration) error {
	x.changesMu.Lock()
	changed, rebuild := x.changed, x.rebuild
	x.changed, x.rebuild = nil, false
	// Changes committed from now on are kept, those during a full load
	// included: loading them again after it is harmless.
	x.tracking.Store(true)
	x.changesMu.Unlock()
	if rebuild {
		x.built, x.things, x.names = false, nil, nil
	}
	if !x.built {
		things, err := x.load(ctx, cfg, nil)
		if err != nil {
			x.requeue(nil, true)
			return err
		}
		x.things, x.names = things, make([]string, 0, len(things))
		for name := range things {
			x.names = append(x.names, name)
		}
		x.unsorted, x.built = true, true
		return nil
	}
	if len(changed) == 0 {
		return nil
	}
	names := make([]string, 0, len(changed))
	for name := range changed {
		names = append(names, name)
	}
	things, err := x.load(ctx, cfg, names)
	if err != nil {
		x.requeue(changed, false)
		return err
	}
	for _, name := range names {
		e, ok := things[name]
		_, had := x.things[name]
		switch {
		case ok && !had:
			x.names, x.unsorted = append(x.names, name), true
		case !ok && had:
			i, _ := slices.BinarySearch(x.sortedNames(), name)
			x.names = slices.Delete(x.names, i, i+1)
		}
		if ok {
			x.things[name] = e
		} else {
			delete(x.things, name)
		}
	}
	return nil
}

// requeue gives back the changes a failed refresh took, for the next.
func (x *Index) requeue(changed map[string]bool, rebuild bool) {
	x.changesMu.Lock()
	defer x.changesMu.Unlock()
	if rebuild || x.rebuild {
		x.rebuildLocked()
		return
	}
	if x.changed == nil {
		x.changed = map[string]bool{}
	}
	for name := range changed {
		x.changed[name] = true
	}
}

func (x *Index) sortedNames() []string {
	if x.unsorted {
		slices.Sort(x.names)
		x.unsorted = false
	}
	return x.names
}

// loadPage is how many things a build reads per query.
const loadPage = 1000

// load reads things from the registry, in one snapshot: all of them when
// names is nil. A name that is not a thing is absent from the answer.
func (x *Index) load(ctx context.Context, cfg registry.IndexingConfiguration, names []string) (map[string]*entry, error) {
	shadows := cfg.ThingIndexingMode == "REGISTRY_AND_SHADOW"
	named := map[string]bool{}
	if cfg.NamedShadowIndexingMode == "ON" {
		for _, n := range cfg.NamedShadowNames {
			named[n] = true
		}
	}
	out := map[string]*entry{}
	err := x.Registry.Store.View(ctx, func(tx registry.Tx) error {
		clear(out)
		var things []registry.Thing
		groups := map[string][]string{} // thing → groups
		if names == nil {
			for p := (registry.Page{Limit: loadPage}); ; {
				page, err := tx.ListThings(ctx, registry.ThingFilter{}, p)
				if err != nil {
					return err
				}
				things = append(things, page...)
				if len(page) < loadPage {
					break
				}
				p.After = page[len(page)-1].Name
			}
			all, err := tx.ListThingGroups(ctx, registry.ThingGroupFilter{}, registry.Page{})
			if err != nil {
				return err
			}
			for _, g := range all {
				members, err := tx.ListThingsInGroup(ctx, g.Name, registry.Page{})
				if err != nil {
					return err
				}
				for _, m := range members {
					groups[m] = append(groups[m], g.Name)
				}
			}
		} else {
			for _, name := range names {
				t, err := tx.Thing(ctx, name)
				if errors.Is(err, registry.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				things = append(things, *t)
				g, err := tx.ListGroupsOfThing(ctx, name, registry.Page{})
				if err != nil {
					return err
				}
				groups[name] = g
			}
		}
		for _, t := range things {
			doc := fleetindex.Thing{Name: t.Name, ID: t.ID, TypeName: t.TypeName, Attributes: t.Attributes,
				Groups: groups[t.Name], Version: t.Version}
			if t.BillingGroupName != "" {
				doc.Groups = append(slices.Clone(doc.Groups), t.BillingGroupName) // AWS indexes it with the groups
			}
			out[t.Name] = &entry{doc: doc}
		}
		if !shadows {
			return nil
		}
		var stored []registry.StoredShadow
		if names == nil {
			all, err := tx.AllShadows(ctx)
			if err != nil {
				return err
			}
			stored = all
		} else {
			for _, name := range names {
				if out[name] == nil {
					continue
				}
				for _, sh := range append([]string{""}, cfg.NamedShadowNames...) {
					s, err := tx.Shadow(ctx, name, sh)
					if errors.Is(err, registry.ErrNotFound) {
						continue
					}
					if err != nil {
						return err
					}
					stored = append(stored, *s)
				}
			}
		}
		for _, s := range stored {
			e := out[s.ThingName]
			if e == nil || (s.ShadowName != "" && !named[s.ShadowName]) {
				continue // a shadow without a thing, or a named shadow not indexed
			}
			doc, err := fleetindex.DecodeShadow(s.Document)
			if err != nil {
				x.log().Warn("a shadow the fleet index cannot read; not indexed", "thing", s.ThingName, "shadow", s.ShadowName, "error", err)
				continue
			}
			doc.Version = s.Version
			if e.doc.Shadows == nil {
				e.doc.Shadows = map[string]*fleetindex.Shadow{}
			}
			e.doc.Shadows[s.ShadowName] = doc
		}
		for _, e := range out {
			e.shadow = shadowJSON(e.doc.Shadows)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the fleet index: %w", err)
	}
	return out, nil
}

// shadowJSON is the "shadow" member of a result: the classic shadow's
// sections, and the named ones under "name" (AWS's shape).
func shadowJSON(shadows map[string]*fleetindex.Shadow) string {
	if len(shadows) == 0 {
		return ""
	}
	section := func(s *fleetindex.Shadow) map[string]any {
		m := map[string]any{"version": s.Version, "hasDelta": len(s.Delta) > 0}
		for k, v := range map[string]map[string]any{"desired": s.Desired, "reported": s.Reported, "delta": s.Delta, "metadata": s.Metadata} {
			if len(v) > 0 {
				m[k] = v
			}
		}
		return m
	}
	out := map[string]any{}
	if s := shadows[""]; s != nil {
		out = section(s)
	}
	named := map[string]any{}
	for name, s := range shadows {
		if name != "" {
			named[name] = section(s)
		}
	}
	if len(named) > 0 {
		out["name"] = named
	}
	b, err := json.Marshal(out)
	if err != nil {
		return ""
	}
	return string(b)
}

func (x *Index) searchGroups(ctx context.Context, q *fleetindex.Query, after string, size int) (*fleetindex.Result, error) {
	var groups []registry.ThingGroup
	err := x.Registry.Store.View(ctx, func(tx registry.Tx) error {
		var err error
		groups, err = tx.ListThingGroups(ctx, registry.ThingGroupFilter{}, registry.Page{})
		return err
	})
	if err != nil {
		return nil, err
	}
	parent := map[string]string{}
	for _, g := range groups {
		parent[g.Name] = g.ParentName
	}
	out := &fleetindex.Result{Groups: []fleetindex.ThingGroup{}}
	for _, g := range groups {
		if g.Name <= after {
			continue
		}
		var ancestors []string
		for p := g.ParentName; p != "" && len(ancestors) <= registry.MaxGroupDepth; p = parent[p] {
			ancestors = append([]string{p}, ancestors...)
		}
		doc := fleetindex.ThingGroup{Name: g.Name, ID: g.ID, Description: g.Description, ParentNames: ancestors,
			Attributes: g.Attributes, Version: g.Version}
		if !q.Match(&doc) {
			continue
		}
		if len(out.Groups) == size {
			out.Next = nextToken(out.Groups[size-1].Name)
			break
		}
		out.Groups = append(out.Groups, doc)
	}
	return out, nil
}

func (x *Index) log() *slog.Logger {
	if x.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return x.Logger
}
