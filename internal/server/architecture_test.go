package server_test

import (
	"encoding/json"
	"os/exec"
	"path"
	"strings"
	"testing"
)

// TestImportsPointInward enforces the layering of DESIGN.md: the domain
// packages import no adapter, and adapters do not import each other; only
// internal/server and cmd/ wire them together.
func TestImportsPointInward(t *testing.T) {
	const mod = "github.com/iotcore/iotcore/"
	adapters := []string{"internal/sqlite", "internal/awsapi", "internal/server", "internal/broker/mochi", "internal/postgres", "internal/console", "internal/cluster"}
	domain := []string{"internal/iot", "internal/policy", "internal/pki", "internal/registry", "internal/provision", "internal/broker", "internal/iotsql", "internal/rules", "internal/shadow", "internal/shadows", "internal/fleetindex", "internal/thingindex"}
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
				if self == "internal/servertest" && a == "internal/server" {
					continue // the test harness runs the wired server
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

// TestLayersPointDown enforces the layers of DESIGN.md: the shared
// vocabulary (iot) at the bottom; the pure packages (policy, template, pki,
// sigv4) on it; the registry above them; provisioning, the broker and the
// API above the registry, none of them importing another. A package may
// import only packages of a lower layer, so that, for example, the registry
// can use the template engine but nothing under provision.
func TestLayersPointDown(t *testing.T) {
	const mod = "github.com/iotcore/iotcore/"
	layer := map[string]int{
		"internal/iot":    0,
		"internal/policy": 1, "internal/template": 1, "internal/pki": 1, "internal/awsapi/sigv4": 1, "internal/iotsql": 1, "internal/shadow": 1, "internal/fleetindex": 1,
		"internal/registry":  2,
		"internal/provision": 3, "internal/broker": 3, "internal/awsapi": 3, "internal/rules": 3, "internal/shadows": 3, "internal/thingindex": 3,
	}
	out, err := exec.Command("go", "list", "-e", "-deps=false", "-json", mod+"internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := map[string]bool{}
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		self := strings.TrimPrefix(p.ImportPath, mod)
		selfRoot, mine, ok := layerOf(layer, self)
		if !ok {
			continue
		}
		seen[selfRoot] = true
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, mod)
			if !ok {
				continue
			}
			if depRoot, theirs, ok := layerOf(layer, dep); ok && depRoot != selfRoot && theirs >= mine {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point to a lower layer", self, mine, dep, theirs)
			}
		}
	}
	for pkg := range layer {
		if !seen[pkg] {
			t.Errorf("go list did not report %s: the layer table is out of date", pkg)
		}
	}
}

// layerOf returns the entry of layer that pkg belongs to (itself, or the
// nearest parent listed) and its layer. Adapters under a domain package
// (internal/broker/mochi) and test helpers (…test) have no layer.
func layerOf(layer map[string]int, pkg string) (string, int, bool) {
	if within(pkg, "internal/broker/mochi") || strings.HasSuffix(pkg, "test") {
		return "", 0, false
	}
	for p := pkg; p != "." && p != ""; p = path.Dir(p) {
		if n, ok := layer[p]; ok {
			return p, n, true
		}
	}
	return "", 0, false
}
