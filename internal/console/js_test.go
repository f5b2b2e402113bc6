package console

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iottest"
)

// TestMQTTPacketJS runs the tests of the browser's MQTT codec,
// static/mqttpacket_test.mjs, with Node's built-in test runner.
func TestMQTTPacketJS(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if iottest.CI() {
			t.Fatal("node is required in CI")
		}
		t.Skip("node is not on PATH")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "static/mqttpacket_test.mjs")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node --test static/mqttpacket_test.mjs: %v\n%s", err, out)
	}
}
