package registry_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// Attempts older than the retention are pruned when an attempt is
// recorded, at most once a minute: not a DELETE per device onboarded.
func TestAttemptsArePrunedAtMostOncePerInterval(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s := &registry.Service{Store: db, Account: testAccount, Now: func() time.Time { return now }}
	old := now.Add(-registry.ProvisioningAttemptRetention - time.Hour)
	record := func(id string, at time.Time) {
		t.Helper()
		if err := s.RecordProvisioningAttempt(ctx, registry.ProvisioningAttempt{ID: id, At: at, Kind: "JITP", Outcome: registry.AttemptFailed}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func() map[string]bool {
		t.Helper()
		got, _, err := s.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{}, registry.PageRequest{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, a := range got {
			m[a.ID] = true
		}
		return m
	}

	record("first-old", old) // the first record prunes: itself, as it is too old
	if got := ids(); got["first-old"] {
		t.Fatalf("after the first record: %v; want the old attempt pruned", got)
	}
	now = now.Add(10 * time.Second)
	record("second-old", old)
	record("recent", now)
	if got := ids(); !got["second-old"] || !got["recent"] {
		t.Fatalf("10 s later: %v; want nothing pruned within the interval", got)
	}
	now = now.Add(2 * time.Minute)
	record("later", now)
	if got := ids(); got["second-old"] || !got["recent"] || !got["later"] {
		t.Fatalf("2 min later: %v; want the old attempt pruned, the recent ones kept", got)
	}
}
