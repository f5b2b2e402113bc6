package template

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces that the package stays pure: the standard library
// and package iot only, no logging, and a package doc.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Doc == "" {
		t.Error("package has no doc comment")
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") && imp != "github.com/iotcore/iotcore/internal/iot" {
			t.Errorf("imports %s; package template may depend on the standard library and internal/iot only", imp)
		}
		if imp == "log" || imp == "log/slog" || imp == "os" || imp == "net" {
			t.Errorf("imports %s; package template is pure: no logging, no I/O", imp)
		}
	}
}
