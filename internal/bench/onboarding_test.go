package bench

import (
	"strings"
	"testing"
)

func TestOnboardingDefaults(t *testing.T) {
	if err := onboardingDefaults("jitp", 0, new(int), new(string)); err == nil || !strings.Contains(err.Error(), "jitp: 0 devices") {
		t.Errorf("0 devices: %v", err)
	}
	conc, prefix := 0, ""
	if err := onboardingDefaults("fleet", 3, &conc, &prefix); err != nil || conc != 3 || prefix == "" {
		t.Errorf("defaults: %v, concurrency %d, prefix %q; want at most one per device and a prefix", err, conc, prefix)
	}
	conc, prefix = 2, "p"
	if err := onboardingDefaults("fleet", 100, &conc, &prefix); err != nil || conc != 2 || prefix != "p" {
		t.Errorf("given values changed: %d %q", conc, prefix)
	}
}
