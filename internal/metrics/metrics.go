package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of iotcore's metrics, in its own registry.
type Metrics struct {
	registry     *prometheus.Registry
	provisioning *prometheus.CounterVec
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
	}
	m.registry.MustRegister(
		m.provisioning,
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
