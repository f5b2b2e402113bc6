package devicesim_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports: the simulator is a client; it knows nothing of the server's
// packages, only the MQTT client and internal/pki.
func TestImports(t *testing.T) {
	const pkg = "github.com/iotcore/iotcore/internal/devicesim"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out) // a rule that cannot be checked fails: it must never pass by default
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == pkg, dep == "github.com/iotcore/iotcore/internal/pki", strings.HasPrefix(dep, "github.com/eclipse/paho.golang/"):
		default:
			t.Errorf("%s imports %s; it may import the standard library, paho.golang and internal/pki only", pkg, dep)
		}
	}
}
