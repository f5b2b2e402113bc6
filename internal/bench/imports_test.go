package bench

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the load generator a client: of iotcore it may import
// only internal/pki, and of mochi only its packet codec, never the server,
// so that it measures any broker from the outside.
func TestImports(t *testing.T) {
	const self = "github.com/iotcore/iotcore/internal/bench"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", self).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == self, dep == "github.com/iotcore/iotcore/internal/pki":
		case strings.HasPrefix(dep, "github.com/iotcore/iotcore/"):
			t.Errorf("%s imports %s: it may import internal/pki only", self, dep)
		case strings.HasPrefix(dep, "github.com/mochi-mqtt/server/v2") && dep != "github.com/mochi-mqtt/server/v2/packets" &&
			!strings.HasPrefix(dep, "github.com/mochi-mqtt/server/v2/mempool"):
			t.Errorf("%s imports %s: of mochi, only the packets codec", self, dep)
		}
	}
}
