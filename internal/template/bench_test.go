package template

import (
	"path/filepath"
	"testing"
)

// BenchmarkParseRender parses and renders seed 000's first template (the
// JITP path for one device, once the body is read from the CA).
func BenchmarkParseRender(b *testing.B) {
	g := readGolden(b, filepath.Join("testdata", "seed000-scoped.txt"))
	body := g.body(b)
	params := map[string]string{ParamCommonName: "DemoThing", ParamCountry: "IN", ParamID: testID}
	b.Run("parse+render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tmpl, err := Parse(body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tmpl.Render(params, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("render", func(b *testing.B) {
		tmpl, err := Parse(body)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tmpl.Render(params, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
