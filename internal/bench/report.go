package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// Summary is the result of one scenario run, printable for people
// (WriteText) or as one JSON object (WriteJSON).
type Summary interface {
	WriteText(w io.Writer) error
}

// WriteJSON writes s as one JSON object on one line.
func WriteJSON(w io.Writer, s Summary) error {
	return json.NewEncoder(w).Encode(s)
}

// Latency is a distribution of durations in milliseconds (to the
// microsecond); percentiles are at most 0.8% above the exact value, never
// decrease from p50 to max, and are all zero when Count is.
type Latency struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func (l Latency) String() string {
	if l.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s  (mean %s, %d samples)",
		fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.Max), fmtMS(l.Mean), l.Count)
}

func fmtMS(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.0fµs", v*1000)
	}
	return fmt.Sprintf("%.1fms", v)
}

// Run is what every summary reports.
type Run struct {
	// Scenario is jitp, fleet, connect, pubsub or idle.
	Scenario string `json:"scenario"`
	// Endpoint is the MQTT server's host:port.
	Endpoint string `json:"endpoint"`
	// Elapsed is the timed part's wall-clock time, in seconds.
	Elapsed float64 `json:"elapsed_s"`
	// Failed counts failed operations (devices, connects, connections,
	// publishers or subscribers); Failures breaks them down by reason.
	Failed   int64            `json:"failed"`
	Failures map[string]int64 `json:"failures"`
	// Interrupted is true when the run was stopped early (SIGINT).
	Interrupted bool `json:"interrupted"`
	// TLS is how the clients connected: the key exchange offered and
	// negotiated, the chain presented, records per packet.
	TLS TLSReport `json:"tls"`

	examples []failureExample // for WriteText
}

func (r *Run) finish(start time.Time, end time.Time, f *failures, interrupted bool) {
	r.Elapsed = seconds(end.Sub(start))
	r.Failures, r.examples = f.report()
	r.Failed = f.total()
	r.Interrupted = interrupted
}

func (r *Run) writeFailures(w io.Writer) {
	r.TLS.writeText(w)
	if r.Interrupted {
		fmt.Fprintln(w, "  interrupted: the figures cover the part that ran")
	}
	if r.Failed == 0 {
		fmt.Fprintln(w, "  failures: none")
		return
	}
	fmt.Fprintf(w, "  failures: %d\n", r.Failed)
	for _, e := range r.examples {
		fmt.Fprintf(w, "    %d × %s (first: %s)\n", e.count, e.reason, e.first)
	}
}

// JITPSummary is the jitp scenario's result.
type JITPSummary struct {
	Run
	// Devices and Concurrency are as asked.
	Devices     int `json:"devices"`
	Concurrency int `json:"concurrency"`
	// KeyType is the devices' key type; PrepareSeconds the time spent
	// generating their keys and certificates, before the clock started.
	KeyType        string  `json:"key_type"`
	PrepareSeconds float64 `json:"prepare_s"`
	// Provisioned counts devices whose QoS 1 publish was acknowledged.
	Provisioned int64 `json:"provisioned"`
	// FirstConnectionAccepted counts devices the server let through on
	// their first connection instead of dropping it (an iotcore opt-in).
	FirstConnectionAccepted int64 `json:"first_connection_accepted"`
	// Rate is Provisioned per second of Elapsed.
	Rate float64 `json:"devices_per_s"`
	// Latency runs from the start of a device's first TCP connect to the
	// PUBACK of its first publish.
	Latency Latency `json:"latency_ms"`
	// FirstConnection runs from the start of the first TCP connect to the
	// server dropping it: two TLS handshakes' worth less, it is mostly the
	// provisioning.
	FirstConnection Latency `json:"first_connection_ms"`
}

// WriteText writes s for people.
func (s *JITPSummary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "jitp: %d of %d devices provisioned in %.2fs: %.1f devices/s (concurrency %d, %s)\n",
		s.Provisioned, s.Devices, s.Elapsed, s.Rate, s.Concurrency, s.Endpoint)
	fmt.Fprintf(w, "  first connect to first accepted publish: %s\n", s.Latency)
	fmt.Fprintf(w, "  first connect until dropped:             %s\n", s.FirstConnection)
	if s.FirstConnectionAccepted > 0 {
		fmt.Fprintf(w, "  first connection accepted (not dropped) for %d devices\n", s.FirstConnectionAccepted)
	}
	fmt.Fprintf(w, "  keys and certificates (%s) made ahead in %.2fs, not timed\n", s.KeyType, s.PrepareSeconds)
	s.writeFailures(w)
	return nil
}

// FleetSummary is the fleet scenario's result.
type FleetSummary struct {
	Run
	// Devices and Concurrency are as asked; Template is the provisioning
	// template's name.
	Devices     int    `json:"devices"`
	Concurrency int    `json:"concurrency"`
	Template    string `json:"template"`
	// Mode is create (CreateKeysAndCertificate: the server makes the key)
	// or csr (CreateCertificateFromCsr: the device does).
	Mode string `json:"mode"`
	// KeyType is the CSRs' key type ("" in create mode); PrepareSeconds
	// the time spent generating the keys and CSRs, before the clock started.
	KeyType        string  `json:"key_type,omitempty"`
	PrepareSeconds float64 `json:"prepare_s"`
	// Provisioned counts devices whose publish with their new certificate
	// was acknowledged.
	Provisioned int64 `json:"provisioned"`
	// Rate is Provisioned per second of Elapsed.
	Rate float64 `json:"devices_per_s"`
	// Latency runs from the start of a device's claim TCP connect to the
	// PUBACK of its first publish with its own certificate.
	Latency Latency `json:"latency_ms"`
	// Steps are the parts of Latency, each counted for the devices that got
	// through it.
	Steps FleetSteps `json:"steps_ms"`
}

// FleetSteps are the steps of a device's fleet provisioning.
type FleetSteps struct {
	// Connect runs from the claim's TCP connect to its CONNACK.
	Connect Latency `json:"connect"`
	// Subscribe runs from the four SUBSCRIBEs to the reply topics to the
	// last SUBACK.
	Subscribe Latency `json:"subscribe"`
	// Create runs from the CreateKeysAndCertificate (or
	// CreateCertificateFromCsr) request to its accepted answer.
	Create Latency `json:"create"`
	// Register runs from the RegisterThing request to its accepted answer
	// and the claim's DISCONNECT.
	Register Latency `json:"register"`
	// Reconnect runs from the TCP connect with the new certificate to its
	// CONNACK (the client ID is the thing's name).
	Reconnect Latency `json:"reconnect"`
	// Publish runs from the QoS 1 PUBLISH to its PUBACK.
	Publish Latency `json:"publish"`
}

// WriteText writes s for people.
func (s *FleetSummary) WriteText(w io.Writer) error {
	how := "CreateKeysAndCertificate"
	if s.Mode == "csr" {
		how = "CreateCertificateFromCsr"
	}
	fmt.Fprintf(w, "fleet: %d of %d devices provisioned in %.2fs: %.1f devices/s (%s, template %s, concurrency %d, %s)\n",
		s.Provisioned, s.Devices, s.Elapsed, s.Rate, how, s.Template, s.Concurrency, s.Endpoint)
	fmt.Fprintf(w, "  claim connect to first accepted publish: %s\n", s.Latency)
	for _, st := range []struct {
		name string
		l    Latency
	}{
		{"claim connect", s.Steps.Connect}, {"subscribe (4 topics)", s.Steps.Subscribe}, {"create certificate", s.Steps.Create},
		{"register thing", s.Steps.Register}, {"reconnect, own cert", s.Steps.Reconnect}, {"publish QoS 1", s.Steps.Publish},
	} {
		fmt.Fprintf(w, "    %-21s %s\n", st.name+":", st.l)
	}
	if s.Mode == "csr" {
		fmt.Fprintf(w, "  keys and CSRs (%s) made ahead in %.2fs, not timed\n", s.KeyType, s.PrepareSeconds)
	}
	s.writeFailures(w)
	return nil
}

// ConnectSummary is the connect scenario's result.
type ConnectSummary struct {
	Run
	Concurrency int `json:"concurrency"`
	// Connects counts accepted connections (CONNACK 0), each closed with
	// DISCONNECT right after.
	Connects int64 `json:"connects"`
	// Rate is Connects per second of Elapsed.
	Rate float64 `json:"connects_per_s"`
	// Latency runs from the start of the TCP connect to the CONNACK.
	Latency Latency `json:"latency_ms"`
}

// WriteText writes s for people.
func (s *ConnectSummary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "connect: %d mTLS connects in %.2fs: %.1f connects/s (concurrency %d, %s)\n",
		s.Connects, s.Elapsed, s.Rate, s.Concurrency, s.Endpoint)
	fmt.Fprintf(w, "  TCP connect to CONNACK: %s\n", s.Latency)
	s.writeFailures(w)
	return nil
}

// PubSubSummary is the pubsub scenario's result, for one QoS.
type PubSubSummary struct {
	Run
	QoS          byte `json:"qos"`
	Publishers   int  `json:"publishers"`
	Subscribers  int  `json:"subscribers"`
	PayloadBytes int  `json:"payload_bytes"`
	// Topic is the first publisher's topic, Filter the subscribers' filter.
	Topic  string `json:"topic"`
	Filter string `json:"filter"`
	// Published counts messages sent (at QoS 1: acknowledged by PUBACK);
	// Unacknowledged counts QoS 1 messages still without PUBACK at the end.
	Published      int64 `json:"published"`
	Unacknowledged int64 `json:"unacknowledged"`
	// Expected is Published times Subscribers; Delivered counts distinct
	// messages received, Duplicates the repeats; Lost is Expected minus
	// Delivered (never negative) and LossPercent its share of Expected.
	Expected    int64   `json:"expected"`
	Delivered   int64   `json:"delivered"`
	Duplicates  int64   `json:"duplicates"`
	Lost        int64   `json:"lost"`
	LossPercent float64 `json:"loss_percent"`
	// PublishSeconds is how long publishing took; Elapsed runs from the
	// first publish to the last delivery.
	PublishSeconds float64 `json:"publish_s"`
	// PublishRate is Published per PublishSeconds; DeliveryRate Delivered
	// per Elapsed.
	PublishRate  float64 `json:"published_per_s"`
	DeliveryRate float64 `json:"delivered_per_s"`
	// Latency runs from a message's encoding by its publisher to its
	// decoding by a subscriber (the same process's monotonic clock).
	Latency Latency `json:"latency_ms"`
}

// WriteText writes s for people.
func (s *PubSubSummary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "pubsub QoS %d: %d publishers → %d subscribers, %d B payloads (%s, filter %s)\n",
		s.QoS, s.Publishers, s.Subscribers, s.PayloadBytes, s.Endpoint, s.Filter)
	fmt.Fprintf(w, "  published %d in %.2fs: %.0f msgs/s", s.Published, s.PublishSeconds, s.PublishRate)
	if s.Unacknowledged > 0 {
		fmt.Fprintf(w, " (%d more without PUBACK)", s.Unacknowledged)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  delivered %d of %d in %.2fs: %.0f msgs/s; lost %d (%.3f%%), duplicates %d\n",
		s.Delivered, s.Expected, s.Elapsed, s.DeliveryRate, s.Lost, s.LossPercent, s.Duplicates)
	fmt.Fprintf(w, "  publish to delivery: %s\n", s.Latency)
	s.writeFailures(w)
	return nil
}

// IdleSummary is the idle scenario's result.
type IdleSummary struct {
	Run
	// Connections and Concurrency are as asked.
	Connections int `json:"connections"`
	Concurrency int `json:"concurrency"`
	// Established counts connections accepted (CONNACK 0); Alive those
	// that still answered a PINGREQ at the end of the hold.
	Established int64 `json:"established"`
	Alive       int64 `json:"alive"`
	// ConnectSeconds is how long establishing them took (Elapsed is
	// ConnectSeconds plus HoldSeconds plus the final check).
	ConnectSeconds float64 `json:"connect_s"`
	HoldSeconds    float64 `json:"hold_s"`
	// Latency runs from the start of each TCP connect to its CONNACK.
	Latency Latency `json:"latency_ms"`
}

// WriteText writes s for people.
func (s *IdleSummary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "idle: %d of %d connections established in %.2fs, held %.1fs; %d alive at the end (%s)\n",
		s.Established, s.Connections, s.ConnectSeconds, s.HoldSeconds, s.Alive, s.Endpoint)
	fmt.Fprintf(w, "  TCP connect to CONNACK: %s\n", s.Latency)
	s.writeFailures(w)
	return nil
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1e3) / 1e3 }

// rate is n per d, to a tenth; zero when d is.
func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10
}
