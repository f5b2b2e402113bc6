// Package metrics exports iotcore's Prometheus metrics. Components report
// through small interfaces they declare themselves; this adapter implements
// them, and its Handler serves /metrics.
package metrics
