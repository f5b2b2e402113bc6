package server_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImportsPointInward enforces the layering of DESIGN.md: the domain
// packages import no adapter, and adapters do not import each other; only
// internal/server and cmd/ wire them together.
func TestImportsPointInward(t *testing.T) {
	const mod = "github.com/iotcore/iotcore/"
	adapters := []string{"internal/sqlite", "internal/awsapi", "internal/server", "internal/broker/mochi", "internal/postgres"}
	domain := []string{"internal/iot", "internal/policy", "internal/pki", "internal/registry", "internal/provision", "internal/broker"}
	out, err := exec.Command("go", "list", "-deps=false", "-json", "github.com/iotcore/iotcore/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		self := strings.TrimPrefix(p.ImportPath, mod)
		checked++
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, mod)
			if !ok {
				continue
			}
			for _, a := range adapters {
				if !within(dep, a) || within(self, a) {
					continue
				}
				if within(self, "cmd") || self == "internal/server" && a != "internal/server" {
					continue // wiring
				}
				if isDomain(self, domain) {
					t.Errorf("domain package %s imports the adapter %s", self, dep)
				} else {
					t.Errorf("adapter %s imports the adapter %s; only internal/server and cmd/ wire adapters", self, dep)
				}
			}
		}
	}
	if checked < 8 {
		t.Fatalf("checked only %d packages", checked)
	}
}

func within(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

func isDomain(pkg string, domain []string) bool {
	for _, d := range domain {
		if pkg == d || strings.HasPrefix(pkg, d+"/") && !strings.HasPrefix(pkg, "internal/broker/mochi") {
			return true
		}
	}
	return false
}
