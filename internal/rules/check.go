package rules

import (
	"encoding/json"
	"fmt"
)

// CheckActions reports whether a rule's actions and errorAction are ones the
// engine can read (members, substitution templates), so that the API can
// refuse a rule that would never run rather than save it. Actions the
// engine does not run (s3, ...) pass: AWS accepts them.
func CheckActions(actions []json.RawMessage, errorAction json.RawMessage) error {
	for i, raw := range actions {
		if _, err := compileAction(raw); err != nil {
			return fmt.Errorf("actions[%d]: %w", i, err)
		}
	}
	if len(errorAction) > 0 && string(errorAction) != "null" {
		if _, err := compileAction(errorAction); err != nil {
			return fmt.Errorf("errorAction: %w", err)
		}
	}
	return nil
}
