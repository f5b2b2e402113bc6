package fleetindex

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the package pure: the standard library and
// internal/iot only, no logging.
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
			t.Errorf("imports %s; package fleetindex may depend on the standard library and internal/iot only", imp)
		}
		if imp == "log" || imp == "log/slog" {
			t.Errorf("imports %s; package fleetindex must not log", imp)
		}
	}
}
