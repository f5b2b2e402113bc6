package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/pki"
)

// DefaultJITPTopic is where each new device publishes: under its own thing
// name, which seed 000's policy allows.
const DefaultJITPTopic = "{cn}/bench"

// JITPConfig configures the jitp scenario: Devices new devices, each with a
// fresh certificate signed by CA, onboard themselves the way AWS IoT's
// just-in-time provisioning makes them: the first connection provisions
// the device and is dropped, the second is accepted, and one QoS 1 publish
// is acknowledged.
type JITPConfig struct {
	Endpoint Endpoint
	// CA signs the devices' certificates. The server must know it: ACTIVE,
	// auto-registration enabled, with a provisioning template. Required.
	CA *pki.Authority
	// Chain follows each device's certificate in its TLS chain; nil means
	// CA.Certificate alone (AWS IoT wants the CA on a JITP connection).
	Chain []*x509.Certificate
	// Devices is how many devices onboard; at least 1.
	Devices int
	// Concurrency is how many onboard at once; zero means DefaultConcurrency.
	Concurrency int
	// Prefix names the devices Prefix-0, Prefix-1...: their certificates'
	// CN, which is their thing name and client ID. "" means NewPrefix().
	Prefix string
	// Country, if set, is the certificates' C (seed 000's template reads it).
	Country string
	// KeyType is the devices' key type; zero means ECDSA P-256.
	KeyType pki.KeyType
	// Topic is where each device publishes; {cn} is its CN. "" means
	// DefaultJITPTopic.
	Topic string
	// Progress, if set, is a terminal to draw a progress bar on.
	Progress io.Writer
}

// jitpDevice is one device, ready before the clock starts.
type jitpDevice struct {
	cn    string
	topic string
	tls   *tls.Config
}

// RunJITP runs the jitp scenario. The devices' keys and certificates are
// made before the clock starts, on every core: ECDSA P-256 keys and
// signatures take tens of microseconds each, but they are the client's
// work, not the server's. Ending ctx stops starting new devices; those under way
// finish within the endpoint's timeout. It fails only when the scenario
// cannot start; what fails during the run is in the summary.
func RunJITP(ctx context.Context, cfg JITPConfig) (*JITPSummary, error) {
	cfg.Endpoint = cfg.Endpoint.withRecorder()
	if cfg.CA == nil {
		return nil, errors.New("jitp: no CA to sign device certificates with")
	}
	if err := onboardingDefaults("jitp", cfg.Devices, &cfg.Concurrency, &cfg.Prefix); err != nil {
		return nil, err
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultJITPTopic
	}
	if cfg.KeyType == "" {
		cfg.KeyType = pki.DefaultKeyType
	}
	if cfg.Chain == nil {
		cfg.Chain = []*x509.Certificate{cfg.CA.Certificate}
	}

	prepStart := time.Now()
	devices, err := makeDevices(cfg)
	if err != nil {
		return nil, fmt.Errorf("jitp: %w", err)
	}
	s := &JITPSummary{
		Run:            Run{Scenario: "jitp", Endpoint: cfg.Endpoint.Addr},
		Devices:        cfg.Devices,
		Concurrency:    cfg.Concurrency,
		KeyType:        string(cfg.KeyType),
		PrepareSeconds: seconds(time.Since(prepStart)),
	}

	var (
		fails                     failures
		provisioned, firstAllowed atomic.Int64
		latency                   = make([]histogram, cfg.Concurrency)
		dropped                   = make([]histogram, cfg.Concurrency)
		work                      = &budget{ctx: ctx, count: int64(cfg.Devices)}
		bar                       = startProgress(cfg.Progress, "jitp", "devices", int64(cfg.Devices), 0)
		opCtx                     = context.WithoutCancel(ctx)
	)
	start := time.Now()
	runWorkers(cfg.Concurrency, func(w int) {
		for {
			i, ok := work.take()
			if !ok {
				return
			}
			o := onboard(opCtx, cfg.Endpoint, &devices[i])
			if o.drop > 0 {
				dropped[w].record(o.drop)
			}
			if o.err != nil {
				fails.add(o.step, o.err)
				bar.fail()
				continue
			}
			if o.firstAccepted {
				firstAllowed.Add(1)
			}
			latency[w].record(o.latency)
			provisioned.Add(1)
			bar.add(1)
		}
	})
	end := time.Now()
	bar.finish()

	s.finish(start, end, &fails, work.interrupted())
	s.TLS = cfg.Endpoint.report()
	s.Provisioned = provisioned.Load()
	s.FirstConnectionAccepted = firstAllowed.Load()
	s.Rate = rate(s.Provisioned, end.Sub(start))
	s.Latency = mergeLatency(latency)
	s.FirstConnection = mergeLatency(dropped)
	return s, nil
}

// onboarding is how one device's onboarding went.
type onboarding struct {
	latency       time.Duration // first TCP connect to PUBACK
	drop          time.Duration // first TCP connect to the drop; 0 if not dropped
	firstAccepted bool          // the server let the first connection through
	step          string        // where it failed: connect, reconnect, publish
	err           error
}

// onboard takes one device through JITP: connect (dropped), reconnect,
// publish at QoS 1.
func onboard(ctx context.Context, ep Endpoint, d *jitpDevice) (o onboarding) {
	start := time.Now()
	c, err := Dial(ctx, ep, d.tls)
	if err != nil {
		return onboarding{step: "connect", err: err}
	}
	defer func() { _ = c.Close() }()
	switch err := c.Connect(d.cn); {
	case err == nil:
		o.firstAccepted = true
	case errors.Is(err, ErrDropped):
		o.drop = time.Since(start)
		_ = c.Close()
		c2, err := Dial(ctx, ep, d.tls)
		if err != nil {
			o.step, o.err = "reconnect", err
			return o
		}
		c = c2
		if err := c.Connect(d.cn); err != nil {
			o.step, o.err = "reconnect", err
			return o
		}
	default:
		o.step, o.err = "connect", err
		return o
	}
	o.step = "publish"
	if o.err = c.Publish(d.topic, 1, 1, []byte(`{"bench":"jitp"}`)); o.err != nil {
		return o
	}
	if o.err = c.Flush(); o.err != nil {
		return o
	}
	if _, o.err = c.Await(packets.Puback, 1); o.err != nil {
		return o
	}
	o.latency, o.step = time.Since(start), ""
	_ = c.Disconnect()
	return o
}

// makeDevices generates the devices' keys and certificates, on every core.
func makeDevices(cfg JITPConfig) ([]jitpDevice, error) {
	devices := make([]jitpDevice, cfg.Devices)
	now := time.Now()
	var (
		next  atomic.Int64
		first atomic.Pointer[error]
	)
	runWorkers(cpuWorkers(cfg.Devices), func(int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= cfg.Devices || first.Load() != nil {
				return
			}
			d, err := makeDevice(cfg, i, now)
			if err != nil {
				first.CompareAndSwap(nil, &err)
				return
			}
			devices[i] = d
		}
	})
	if err := first.Load(); err != nil {
		return nil, *err
	}
	return devices, nil
}

func makeDevice(cfg JITPConfig, i int, now time.Time) (jitpDevice, error) {
	cn := fmt.Sprintf("%s-%d", cfg.Prefix, i)
	key, err := pki.GenerateKey(cfg.KeyType)
	if err != nil {
		return jitpDevice{}, err
	}
	subject := pkix.Name{CommonName: cn}
	if cfg.Country != "" {
		subject.Country = []string{cfg.Country}
	}
	cert, err := cfg.CA.IssueClient(key.Public(), subject, now.Add(-time.Hour), now.Add(7*24*time.Hour))
	if err != nil {
		return jitpDevice{}, fmt.Errorf("device %s: %w", cn, err)
	}
	tc := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	for _, c := range cfg.Chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return jitpDevice{cn: cn, topic: expand(cfg.Topic, cn, "", i), tls: cfg.Endpoint.TLSConfig(tc)}, nil
}
