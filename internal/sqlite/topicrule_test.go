package sqlite

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

// TestTopicRuleSurvivesReopen checks that a topic rule, its actions byte for
// byte, is still there after the database is closed and opened again.
func TestTopicRuleSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iotcore.db")
	ctx := t.Context()
	rule := &registry.TopicRule{
		Name:         "jitr",
		SQL:          "SELECT * FROM '$aws/events/certificates/registered/abc'",
		Description:  "JITR activation",
		Actions:      []json.RawMessage{json.RawMessage(`{"lambda": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:jitr-activate"}}`)},
		SQLVersion:   "2016-03-23",
		TopicPattern: "$aws/events/certificates/registered/abc",
		CreatedAt:    time.UnixMilli(1700000000123).UTC(),
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Update(ctx, func(tx registry.Tx) error { return tx.InsertTopicRule(ctx, rule) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = openTest(t, path)
	var got *registry.TopicRule
	if err := db.View(ctx, func(tx registry.Tx) error {
		got, err = tx.TopicRule(ctx, "jitr")
		return err
	}); err != nil {
		t.Fatalf("View after reopening: %v", err)
	}
	if d := cmp.Diff(rule, got); d != "" {
		t.Errorf("topic rule after reopening (-want +got):\n%s", d)
	}
}
