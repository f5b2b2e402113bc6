package mqttserver_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly enforces the engine's rule: it imports the
// standard library and its own packages, nothing of iotcore's (the
// adapter brings iotcore to it through Hooks) and no other engine.
func TestStandardLibraryOnly(t *testing.T) {
	const pkg = "github.com/iotcore/iotcore/internal/mqttserver"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out) // a rule that cannot be checked fails: it must never pass by default
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != pkg && !strings.HasPrefix(dep, pkg+"/") {
			t.Errorf("%s imports %s; it may import the standard library and its own packages only", pkg, dep)
		}
	}
}
