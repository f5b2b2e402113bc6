package policy

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces that the package stays pure: standard library only,
// and no logging (it returns reasons instead).
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
		if strings.Contains(first, ".") {
			t.Errorf("imports %s; package policy must depend on the standard library only", imp)
		}
		if imp == "log" || imp == "log/slog" {
			t.Errorf("imports %s; package policy must not log", imp)
		}
	}
}
