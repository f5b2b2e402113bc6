package bench

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/pki"
)

// Defaults of FleetConfig's zero values.
const (
	// DefaultFleetClientID names the claim connections: one client ID per
	// device, since devices sharing the claim certificate would otherwise
	// take each other's connection over.
	DefaultFleetClientID = "{prefix}-claim-{i}"
	// DefaultFleetTopic is where each provisioned device publishes: under
	// its own thing name, which the --setup template's policy allows.
	DefaultFleetTopic = "{thing}/bench"
)

// DefaultFleetParameters are RegisterThing's parameters when none are
// given: a serial number unique to the run.
func DefaultFleetParameters() map[string]string {
	return map[string]string{"SerialNumber": "{prefix}-{i}"}
}

// FleetConfig configures the fleet scenario: Devices devices, each sharing
// the claim certificate, trade it for a certificate and a thing of their
// own with AWS IoT's fleet provisioning MQTT API [AWS 6.1], then connect
// with their new certificate and publish once at QoS 1.
type FleetConfig struct {
	Endpoint Endpoint
	// Claim is the claim certificate and key every device connects with
	// first; its policy must allow the client IDs, publishing to and
	// receiving on the fleet topics of Template, and subscribing to them.
	// Required.
	Claim tls.Certificate
	// Template is the fleet-provisioning template's name. Required.
	Template string
	// Devices is how many devices provision; at least 1.
	Devices int
	// Concurrency is how many provision at once; zero means DefaultConcurrency.
	Concurrency int
	// CSR makes each device send a CSR for a key of its own
	// (CreateCertificateFromCsr) instead of asking for a key and a
	// certificate (CreateKeysAndCertificate). The keys and CSRs are made
	// before the clock starts.
	CSR bool
	// KeyType is the key type of the CSRs; zero means ECDSA P-256.
	KeyType pki.KeyType
	// Prefix is the run's name, {prefix} in ClientID and Parameters. ""
	// means NewPrefix().
	Prefix string
	// ClientID names the claim connections: {prefix}, and {i} the device's
	// number. "" means DefaultFleetClientID. It must hold {i}.
	ClientID string
	// Parameters are RegisterThing's parameters, their values templates
	// with {prefix} and {i}. nil means DefaultFleetParameters().
	Parameters map[string]string
	// Topic is where each device publishes once provisioned: {thing} is its
	// thing name (also its client ID), {i} its number. "" means
	// DefaultFleetTopic.
	Topic string
	// Progress, if set, is a terminal to draw a progress bar on.
	Progress io.Writer
}

// Topics of fleet provisioning's MQTT API, JSON format [AWS 6.1].
const (
	fleetCreateTopic    = "$aws/certificates/create/json"
	fleetCreateCSRTopic = "$aws/certificates/create-from-csr/json"
	replyAccepted       = "/accepted"
	replyRejected       = "/rejected"
)

// fleetRegisterTopic is RegisterThing's request topic for template.
func fleetRegisterTopic(template string) string {
	return "$aws/provisioning-templates/" + template + "/provision/json"
}

// fleetDevice is one device, ready before the clock starts.
type fleetDevice struct {
	i        int
	clientID string            // the claim connection's
	params   map[string]string // RegisterThing's
	create   []byte            // the create request's payload
	key      crypto.Signer     // with a CSR: the device's key
}

// fleetRun is what every device of a run shares.
type fleetRun struct {
	ep                    Endpoint
	claim                 *tls.Config
	createTopic, register string
	filters               []string // the four reply topics
	topic                 string
}

// RunFleet runs the fleet scenario. With CSR, the devices' keys and CSRs
// are made before the clock starts, on every core (PrepareSeconds): they
// are the client's work, not the server's. Ending ctx stops starting new
// devices; those under way finish within the endpoint's timeout. It fails
// only when the scenario cannot start; what fails during the run is in the
// summary.
func RunFleet(ctx context.Context, cfg FleetConfig) (*FleetSummary, error) {
	cfg.Endpoint = cfg.Endpoint.withRecorder()
	if len(cfg.Claim.Certificate) == 0 || cfg.Claim.PrivateKey == nil {
		return nil, errors.New("fleet: no claim certificate and key")
	}
	if cfg.Template == "" {
		return nil, errors.New("fleet: no provisioning template")
	}
	if strings.ContainsAny(cfg.Template, "/#+") {
		return nil, fmt.Errorf("fleet: template name %q: no /, # or + in a topic level", cfg.Template)
	}
	if err := onboardingDefaults("fleet", cfg.Devices, &cfg.Concurrency, &cfg.Prefix); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultFleetClientID
	}
	if err := checkClientID(cfg.ClientID, cfg.Devices); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if cfg.Parameters == nil {
		cfg.Parameters = DefaultFleetParameters()
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultFleetTopic
	}
	if cfg.CSR && cfg.KeyType == "" {
		cfg.KeyType = pki.KeyECP256
	}
	if !cfg.CSR {
		cfg.KeyType = ""
	}

	run := &fleetRun{
		ep:          cfg.Endpoint,
		claim:       cfg.Endpoint.TLSConfig(cfg.Claim),
		createTopic: fleetCreateTopic,
		register:    fleetRegisterTopic(cfg.Template),
		topic:       cfg.Topic,
	}
	mode := "create"
	if cfg.CSR {
		run.createTopic, mode = fleetCreateCSRTopic, "csr"
	}
	run.filters = []string{
		run.createTopic + replyAccepted, run.createTopic + replyRejected,
		run.register + replyAccepted, run.register + replyRejected,
	}

	prepStart := time.Now()
	devices, err := makeFleetDevices(cfg)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	s := &FleetSummary{
		Run:            Run{Scenario: "fleet", Endpoint: cfg.Endpoint.Addr},
		Devices:        cfg.Devices,
		Concurrency:    cfg.Concurrency,
		Template:       cfg.Template,
		Mode:           mode,
		KeyType:        string(cfg.KeyType),
		PrepareSeconds: seconds(time.Since(prepStart)),
	}

	var (
		fails       failures
		provisioned atomic.Int64
		latency     = make([]histogram, cfg.Concurrency)
		steps       = make([][numFleetSteps]histogram, cfg.Concurrency)
		work        = &budget{ctx: ctx, count: int64(cfg.Devices)}
		bar         = startProgress(cfg.Progress, "fleet", "devices", int64(cfg.Devices), 0)
		opCtx       = context.WithoutCancel(ctx)
	)
	start := time.Now()
	runWorkers(cfg.Concurrency, func(w int) {
		for {
			i, ok := work.take()
			if !ok {
				return
			}
			p := run.provision(opCtx, &devices[i])
			for st, d := range p.steps {
				if d > 0 {
					steps[w][st].record(d)
				}
			}
			if p.err != nil {
				fails.add(fleetStepNames[p.failed], p.err)
				bar.fail()
				continue
			}
			latency[w].record(p.latency)
			provisioned.Add(1)
			bar.add(1)
		}
	})
	end := time.Now()
	bar.finish()

	s.finish(start, end, &fails, work.interrupted())
	s.TLS = cfg.Endpoint.report()
	s.Provisioned = provisioned.Load()
	s.Rate = rate(s.Provisioned, end.Sub(start))
	s.Latency = mergeLatency(latency)
	perStep := func(st fleetStep) Latency {
		hs := make([]histogram, len(steps))
		for w := range steps {
			hs[w] = steps[w][st]
		}
		return mergeLatency(hs)
	}
	s.Steps = FleetSteps{
		Connect: perStep(stepConnect), Subscribe: perStep(stepSubscribe), Create: perStep(stepCreate),
		Register: perStep(stepRegister), Reconnect: perStep(stepReconnect), Publish: perStep(stepPublish),
	}
	return s, nil
}

// fleetStep is one step of a device's provisioning.
type fleetStep int

const (
	stepConnect   fleetStep = iota // claim: TCP connect to CONNACK
	stepSubscribe                  // the four reply topics: SUBSCRIBE to the last SUBACK
	stepCreate                     // CreateKeysAndCertificate or CreateCertificateFromCsr: request to accepted
	stepRegister                   // RegisterThing: request to accepted
	stepReconnect                  // own certificate: TCP connect to CONNACK
	stepPublish                    // PUBLISH to PUBACK
	numFleetSteps
)

// fleetStepNames name the steps in failure reasons.
var fleetStepNames = [numFleetSteps]string{"connect", "subscribe", "create", "register", "reconnect", "publish"}

// provisioning is how one device's provisioning went.
type provisioning struct {
	latency time.Duration                // claim's TCP connect to the PUBACK
	steps   [numFleetSteps]time.Duration // each step that ended well
	failed  fleetStep                    // with err: the step that failed
	err     error
}

// provision takes one device through fleet provisioning: connect with the
// claim, subscribe to the reply topics, create a certificate, register the
// thing, disconnect; connect with the new certificate and publish at QoS 1.
func (r *fleetRun) provision(ctx context.Context, d *fleetDevice) (p provisioning) {
	start := time.Now()
	t := start
	step := func(st fleetStep) {
		now := time.Now()
		p.steps[st], t = now.Sub(t), now
	}
	fail := func(st fleetStep, err error) provisioning {
		p.failed, p.err = st, err
		return p
	}

	c, err := Dial(ctx, r.ep, r.claim)
	if err != nil {
		return fail(stepConnect, err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Connect(d.clientID); err != nil {
		return fail(stepConnect, err)
	}
	step(stepConnect)

	if err := subscribeAll(c, r.filters, 1); err != nil {
		return fail(stepSubscribe, err)
	}
	step(stepSubscribe)

	var created createdCertificate
	if err := request(c, r.createTopic, 1, d.create, &created); err != nil {
		return fail(stepCreate, err)
	}
	if err := created.check(d.key == nil); err != nil {
		return fail(stepCreate, err)
	}
	step(stepCreate)

	var registered registeredThing
	if err := request(c, r.register, 2, encodeRegister(created.CertificateOwnershipToken, d.params), &registered); err != nil {
		return fail(stepRegister, err)
	}
	if registered.ThingName == "" {
		return fail(stepRegister, &fleetError{why: "accepted without a thingName", msg: "RegisterThing accepted without a thingName: the template makes no thing"})
	}
	_ = c.Disconnect()
	step(stepRegister)

	own, err := created.identity(d.key)
	if err != nil {
		return fail(stepReconnect, err)
	}
	dc, err := Dial(ctx, r.ep, r.ep.TLSConfig(own))
	if err != nil {
		return fail(stepReconnect, err)
	}
	defer func() { _ = dc.Close() }()
	if err := dc.Connect(registered.ThingName); err != nil {
		return fail(stepReconnect, err)
	}
	step(stepReconnect)

	topic := strings.NewReplacer("{thing}", registered.ThingName, "{i}", strconv.Itoa(d.i)).Replace(r.topic)
	if err := dc.Publish(topic, 1, 1, []byte(`{"bench":"fleet"}`)); err != nil {
		return fail(stepPublish, err)
	}
	if err := dc.Flush(); err != nil {
		return fail(stepPublish, err)
	}
	if _, err := dc.Await(packets.Puback, 1); err != nil {
		return fail(stepPublish, err)
	}
	step(stepPublish)
	p.latency = time.Since(start)
	_ = dc.Disconnect()
	return p
}

// subscribeAll subscribes to each filter at qos, one SUBSCRIBE each as the
// device SDKs do, sent together; it waits for every SUBACK and fails if
// one refuses.
func subscribeAll(c *Conn, filters []string, qos byte) error {
	for i, f := range filters {
		pk, err := encodeSubscribe(uint16(i+1), f, qos)
		if err != nil {
			return err
		}
		c.wbuf = append(c.wbuf, pk...)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("send SUBSCRIBE: %w", err)
	}
	for i, f := range filters {
		p, err := c.Await(packets.Suback, uint16(i+1))
		if err != nil {
			return err
		}
		if len(p.Codes) != 1 {
			return fmt.Errorf("%w: SUBACK with %d return codes for one filter", errMalformed, len(p.Codes))
		}
		if p.Codes[0] == 0x80 { // [MQTT-3.9.3]
			return &fleetError{why: "SUBACK refused", msg: "subscribe to " + f + " refused: the claim's policies must allow iot:Subscribe on it"}
		}
	}
	return nil
}

// request publishes payload to topic at QoS 1 and decodes the answer on
// topic/accepted into out; an answer on topic/rejected is a
// *RejectedError. The server answers only on this connection [AWS 6.1].
func request(c *Conn, topic string, id uint16, payload []byte, out any) error {
	if err := c.Publish(topic, 1, id, payload); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return err
	}
	accepted, rejected := topic+replyAccepted, topic+replyRejected
	_ = c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		p, err := c.ReadPacket()
		switch {
		case isTimeout(err):
			return &fleetError{why: "no answer in time", msg: fmt.Sprintf("no answer on %s or %s within %s", accepted, rejected, c.timeout), err: err}
		case err != nil:
			return fmt.Errorf("wait for the answer to %s: %w", topic, err)
		case p.Type == packets.Disconnect:
			return fmt.Errorf("wait for the answer to %s: %w", topic, errServerDisconnect)
		case p.Type != packets.Publish:
			continue // our request's PUBACK, before or after the answer
		}
		if p.QoS() == 1 {
			if err := c.Puback(p.ID); err != nil {
				return err
			}
			if err := c.Flush(); err != nil {
				return err
			}
		}
		switch string(p.Topic) {
		case accepted:
			return decodeAccepted(topic, p.Payload, out)
		case rejected:
			return decodeRejected(topic, p.Payload)
		}
	}
}

// fleetError is a failure of the fleet exchange with a stable reason.
type fleetError struct {
	why, msg string
	err      error
}

func (e *fleetError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}
func (e *fleetError) Unwrap() error         { return e.err }
func (e *fleetError) failureReason() string { return e.why }

// identity is the device's new TLS identity: the issued certificate with
// the key the server made, or with key (a CSR's).
func (cc *createdCertificate) identity(key crypto.Signer) (tls.Certificate, error) {
	bad := func(err error) (tls.Certificate, error) {
		return tls.Certificate{}, &fleetError{why: "unusable certificate", msg: "the issued certificate " + cc.CertificateID, err: err}
	}
	if key == nil {
		c, err := tls.X509KeyPair([]byte(cc.CertificatePEM), []byte(cc.PrivateKey))
		if err != nil {
			return bad(err)
		}
		return c, nil
	}
	chain, err := pki.ParseCertificateChainPEM(cc.CertificatePEM)
	if err != nil {
		return bad(err)
	}
	c := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, nil
}

// makeFleetDevices names the devices and, with a CSR, makes their keys and
// CSRs, on every core.
func makeFleetDevices(cfg FleetConfig) ([]fleetDevice, error) {
	devices := make([]fleetDevice, cfg.Devices)
	var (
		next  atomic.Int64
		first atomic.Pointer[error]
	)
	names := make([]string, 0, len(cfg.Parameters))
	for k := range cfg.Parameters {
		names = append(names, k)
	}
	sort.Strings(names)
	workers := 1
	if cfg.CSR {
		workers = cpuWorkers(cfg.Devices)
	}
	runWorkers(workers, func(int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= cfg.Devices || first.Load() != nil {
				return
			}
			fill := strings.NewReplacer("{prefix}", cfg.Prefix, "{i}", strconv.Itoa(i))
			d := fleetDevice{i: i, clientID: fill.Replace(cfg.ClientID), params: make(map[string]string, len(names)), create: []byte("{}")}
			for _, k := range names {
				d.params[k] = fill.Replace(cfg.Parameters[k])
			}
			if cfg.CSR {
				var err error
				if d.key, d.create, err = csrRequest(cfg.KeyType); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
			devices[i] = d
		}
	})
	if err := first.Load(); err != nil {
		return nil, *err
	}
	return devices, nil
}

// csrRequest makes a key and the CreateCertificateFromCsr request for it.
func csrRequest(kt pki.KeyType) (crypto.Signer, []byte, error) {
	key, err := pki.GenerateKey(kt)
	if err != nil {
		return nil, nil, err
	}
	csr, err := pki.CreateCSR(key, pkix.Name{})
	if err != nil {
		return nil, nil, err
	}
	return key, encodeCSRRequest(pki.EncodeCSRPEM(csr)), nil
}
