package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of iotcore's metrics, in its own registry.
type Metrics struct {
	registry     *prometheus.Registry
	provisioning *prometheus.CounterVec
	apiRequests  *prometheus.CounterVec
	apiLatency   *prometheus.HistogramVec
	ruleActions  *prometheus.CounterVec
}

// New creates the metrics, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		provisioning: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "iotcore",
			Name:      "provisioning_attempts_total",
			Help:      "Just-in-time provisioning (JITP) and registration (JITR) attempts, by kind, outcome and, for failures, the step that failed.",
		}, []string{"kind", "outcome", "reason"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "iotcore",
			Name:      "api_requests_total",
			Help:      "Control-plane API requests, by AWS operation and answer (OK or the AWS error code).",
		}, []string{"operation", "code"}),
		apiLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "iotcore",
			Name:      "api_request_duration_seconds",
			Help:      "Control-plane API request latency, by AWS operation.",
			Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		ruleActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "iotcore",
			Name:      "rule_actions_total",
			Help:      "Actions of topic rules run, by rule, action (republish, lambda, http, ...) and outcome (success or failure).",
		}, []string{"rule", "action", "outcome"}),
	}
	m.registry.MustRegister(
		m.provisioning,
		m.apiRequests,
		m.apiLatency,
		m.ruleActions,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// ProvisioningAttempt counts one attempt. reason is the failed step
// (template, render, certificate, thing, thing-group, policy, attach,
// internal) or "" on success: a small, fixed set, never free text.
func (m *Metrics) ProvisioningAttempt(kind, outcome, reason string) {
	m.provisioning.WithLabelValues(kind, outcome, reason).Inc()
}

// APIRequest counts one control-plane request and its latency. op is an AWS
// operation name or "unknown"; code is "OK" or an AWS error code: both are
// small fixed sets.
func (m *Metrics) APIRequest(op, code string, d time.Duration) {
	m.apiRequests.WithLabelValues(op, code).Inc()
	m.apiLatency.WithLabelValues(op).Observe(d.Seconds())
}

// RuleAction counts one action of a topic rule. rule is a rule's name (at
// most 1000, AWS's limit), action a member of AWS's Action union, outcome
// success or failure.
func (m *Metrics) RuleAction(rule, action, outcome string) {
	m.ruleActions.WithLabelValues(rule, action, outcome).Inc()
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// CounterFunc exports a counter read from fn at each scrape, as
// iotcore_<name>; fn must be cheap and safe for concurrent use.
func (m *Metrics) CounterFunc(name, help string, fn func() float64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "iotcore", Name: name, Help: help}, fn))
}

// GaugeFunc exports a gauge read from fn at each scrape, as iotcore_<name>.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "iotcore", Name: name, Help: help}, fn))
}
