package console

import (
	"net/http"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/rules"
)

// topicRules lists the topic rules and the engine's counters.
func (c *Console) topicRules(w http.ResponseWriter, r *http.Request, s *session) {
	rows, next, err := c.cfg.Registry.ListTopicRules(r.Context(), registry.TopicRuleFilter{}, pageRequest(r))
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	data := map[string]any{"Title": "Rules", "List": newListing(r, rows, next)}
	if c.cfg.Rules != nil {
		data["Stats"] = c.cfg.Rules.Stats()
	}
	c.render(w, r, s, http.StatusOK, "rules", data)
}

// topicRule shows a rule's SQL and actions and its recent failures.
func (c *Console) topicRule(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	rule, err := c.cfg.Registry.TopicRule(r.Context(), name)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	var failures []rules.Failure
	if c.cfg.Rules != nil {
		for _, f := range c.cfg.Rules.Failures() {
			if f.Rule == name {
				failures = append(failures, f)
			}
		}
	}
	actions := make([]string, len(rule.Actions))
	for i, a := range rule.Actions {
		actions[i] = prettyJSON(string(a))
	}
	c.render(w, r, s, http.StatusOK, "rule", map[string]any{"Title": "Rule " + name, "Nav": "rules",
		"Rule": rule, "Actions": actions, "ErrorAction": prettyJSON(string(rule.ErrorAction)), "Failures": failures})
}
