package mochi

import (
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// mochiModule and mochiVersion are the engine this package was written
// against. Its workarounds and the places that read mochi's internals
// depend on that exact version's code, not on its API.
const (
	mochiModule  = "github.com/mochi-mqtt/server/v2"
	mochiVersion = "v2.7.9"
)

// mochiInternals lists where this package relies on how mochi v2.7.9 works
// inside, beyond its API: what to re-read, against the new version's
// source, before changing mochiVersion.
var mochiInternals = []string{
	"outbound.go: reads the unexported ClientState.outbound channel by reflection and unsafe",
	"subscribe.go: OnSubscribe's filter strings reach OnACLCheck unchanged, on the same goroutine, before OnSubscribed",
	"serve.go: recovered() repeats what attachClient does after a read error (will, OnDisconnect, clean session removal)",
	"connect.go: takeOver() waits for mochi's clean-session teardown; connack() and connackCode3() map what SendConnack does not; filterInflight() adjusts Info.Inflight",
	"engine.go: Capabilities semantics (MaximumPacketSize 0 = unlimited, MaximumMessageExpiryInterval stamps deliveries, NoInheritedPropertiesOnAck)",
	"frames.go: the checks mochi's decoder lacks (packet size counted without the length bytes, duplicate properties, 5-byte lengths, AUTH, PINGREQ)",
	"publish.go, hook.go: the errors OnPacketRead and OnPublish may return and what mochi answers for each; the PUBACK reason code mochi takes from QosCodes",
	"acks.go, deadline.go, flow.go: how mochi reads (bufio over conn.Read), writes (one Write per packet) and refreshes deadlines",
	"defects_test.go: TestMochiDefects pins the defects worked around",
}

// TestMochiVersion fails when the MQTT engine's version changes (go.mod,
// or a replace directive), so that nobody upgrades it without checking the
// code that depends on its internals. The version is read from where the
// engine's code was compiled from: the module cache directory (with or
// without -trimpath) is named path@version. (Test binaries carry no module
// list in their build information.)
func TestMochiVersion(t *testing.T) {
	fn := runtime.FuncForPC(reflect.ValueOf(mqtt.New).Pointer())
	if fn == nil {
		t.Fatal("mqtt.New: no function information")
	}
	file, _ := fn.FileLine(fn.Entry())
	want := mochiModule + "@" + mochiVersion + "/"
	if !strings.Contains(filepath.ToSlash(file), want) {
		t.Errorf("the MQTT engine was compiled from %s, not from %s: this package was written against %s. "+
			"Before changing mochiVersion, re-check against the new source:\n  %s",
			file, want, mochiVersion, strings.Join(mochiInternals, "\n  "))
	}
}
