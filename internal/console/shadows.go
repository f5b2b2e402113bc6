package console

import (
	"context"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/shadow"
)

// shadowView is a shadow as the thing page shows it: its get document
// (desired, reported, delta, metadata, version), pretty-printed.
type shadowView struct {
	Name     string // "" for the classic shadow
	Document string
}

// maxShadowsShown bounds the named shadows a thing page shows.
const maxShadowsShown = 10

// thingShadows reads a thing's classic shadow and its first named ones.
func (c *Console) thingShadows(ctx context.Context, thing string) ([]shadowView, error) {
	names, _, err := c.cfg.Registry.ListNamedShadows(ctx, thing, registry.PageRequest{Size: maxShadowsShown})
	if err != nil {
		return nil, err
	}
	var out []shadowView
	for _, name := range append([]string{""}, names...) {
		st, err := c.cfg.Registry.Shadow(ctx, thing, name)
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		sh, err := shadow.Parse(st.Document)
		if err != nil {
			return nil, err
		}
		doc, serr := shadow.Get(shadow.Request{Thing: thing, Name: name, Op: shadow.OpGet}, sh, nil, c.cfg.Now())
		if serr != nil {
			continue
		}
		out = append(out, shadowView{Name: name, Document: prettyJSON(string(doc))})
	}
	return out, nil
}
