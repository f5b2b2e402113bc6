package pkitool_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports enforces the package's place: pure Go over internal/pki, with
// the AWS SDK kept in the awssdk adapter.
func TestImports(t *testing.T) {
	const pkg = "github.com/iotcore/iotcore/internal/pkitool"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out) // a rule that cannot be checked fails: it must never pass by default
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != pkg && dep != "github.com/iotcore/iotcore/internal/pki" {
			t.Errorf("%s imports %s; it may import the standard library and internal/pki only", pkg, dep)
		}
	}
}
