package rules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/iotcore/iotcore/internal/iotsql"
	"github.com/iotcore/iotcore/internal/registry"
)

// rule is a topic rule compiled for the engine.
type rule struct {
	name        string
	stmt        *iotsql.Statement
	actions     []action
	errorAction action // nil: none
}

// compile prepares a stored rule. The registry has checked its SQL and
// actions already; an error here means a rule saved by an older iotcore
// that this one reads differently.
func compile(r registry.TopicRule) (*rule, error) {
	stmt, err := iotsql.Parse(r.SQL, r.SQLVersion)
	if err != nil {
		return nil, fmt.Errorf("rule %s: sql: %w", r.Name, err)
	}
	c := &rule{name: r.Name, stmt: stmt}
	for i, raw := range r.Actions {
		a, err := compileAction(raw)
		if err != nil {
			return nil, fmt.Errorf("rule %s: action %d: %w", r.Name, i+1, err)
		}
		c.actions = append(c.actions, a)
	}
	if len(r.ErrorAction) > 0 && string(r.ErrorAction) != "null" {
		if c.errorAction, err = compileAction(json.RawMessage(r.ErrorAction)); err != nil {
			return nil, fmt.Errorf("rule %s: errorAction: %w", r.Name, err)
		}
	}
	return c, nil
}

// ruleSet is the enabled rules, swapped whole when the rules change.
type ruleSet struct {
	byName map[string]*rule
	// byFirstLevel indexes the rules by their FROM filter's first level,
	// so that a message is matched only against the rules that may want
	// it; wild holds those whose filter begins with a wildcard.
	byFirstLevel map[string][]*rule
	wild         []*rule
}

func newRuleSet() *ruleSet {
	return &ruleSet{byName: map[string]*rule{}, byFirstLevel: map[string][]*rule{}}
}

func (s *ruleSet) add(r *rule) {
	s.byName[r.name] = r
	first, _, _ := strings.Cut(r.stmt.Topic(), "/")
	if first == "+" || first == "#" {
		s.wild = append(s.wild, r)
		return
	}
	s.byFirstLevel[first] = append(s.byFirstLevel[first], r)
}

// candidates calls fn for each rule whose filter may match topic, until fn
// returns false.
func (s *ruleSet) candidates(topic string, fn func(*rule) bool) {
	first, _, _ := strings.Cut(topic, "/")
	for _, r := range s.byFirstLevel[first] {
		if !fn(r) {
			return
		}
	}
	for _, r := range s.wild {
		if !fn(r) {
			return
		}
	}
}
