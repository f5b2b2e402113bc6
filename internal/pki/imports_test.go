package pki_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly enforces the package's rule: it imports the
// standard library and nothing else, not even other iotcore packages.
func TestStandardLibraryOnly(t *testing.T) {
	const pkg = "github.com/iotcore/iotcore/internal/pki"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out) // a rule that cannot be checked fails: it must never pass by default
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != pkg {
			t.Errorf("%s imports %s; it may import the standard library only", pkg, dep)
		}
	}
}
