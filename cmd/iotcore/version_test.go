package main

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"go install", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}},
			"iotcore v0.3.0, built with go1.26.8"},
		{"checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "8d7f8b8c"}, {Key: "vcs.time", Value: "2026-12-04T16:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"iotcore (devel), revision 8d7f8b8c (2026-12-04T16:00:00Z), with uncommitted changes, built with go1.26.8"},
		{"clean checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.1-0.20261204160000-8d7f8b8c"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "8d7f8b8c"}, {Key: "vcs.modified", Value: "false"}}},
			"iotcore v0.3.1-0.20261204160000-8d7f8b8c, revision 8d7f8b8c, built with go1.26.8"},
		{"no version", debug.BuildInfo{GoVersion: "go1.26.8"}, "iotcore (unknown version), built with go1.26.8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionText(&tc.bi); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestVersionCommand: `iotcore version` and `iotcore --version` print what
// the toolchain stamped in the binary, as `go version -m` reads it.
func TestVersionCommand(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	want := map[string]string{}
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case i == 0 && len(f) == 2:
			want["go"] = f[1]
		case len(f) >= 3 && f[0] == "mod":
			want["version"] = f[2]
		case len(f) == 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				want[k] = v
			}
		}
	}
	if want["go"] == "" || want["version"] == "" {
		t.Fatalf("go version -m printed no Go or module version:\n%s", out)
	}
	got := mustCLI(t, bin, t.TempDir(), nil, "version").stdout
	for _, s := range []string{"iotcore " + want["version"], "built with " + want["go"], want["vcs.revision"]} {
		if !strings.Contains(got, s) {
			t.Errorf("iotcore version printed %q, want %q in it", got, s)
		}
	}
	if modified := strings.Contains(got, "uncommitted changes"); modified != (want["vcs.modified"] == "true") {
		t.Errorf("iotcore version printed %q; vcs.modified is %q", got, want["vcs.modified"])
	}
	if flag := mustCLI(t, bin, t.TempDir(), nil, "--version").stdout; flag != got {
		t.Errorf("iotcore --version printed %q, iotcore version %q", flag, got)
	}
}
