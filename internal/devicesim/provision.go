package devicesim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotcore/iotcore/internal/pki"
)

// ProvisionConfig is fleet provisioning by claim [AWS 6.1]: the device
// connects with Config's certificate (the claim), obtains a certificate of
// its own, registers it with a fleet-provisioning template, writes it, and
// connects once with it to show that it works.
type ProvisionConfig struct {
	// Config is the claim's connection: Addr, RootCAs, Certificate (the
	// claim certificate), ClientID (default: random, not the claim's CN),
	// timeouts and attempts. Its Subscribe, Publish and Count are not used.
	Config
	// Template is the fleet-provisioning template's name. Required.
	Template string
	// Parameters are RegisterThing's parameters, such as SerialNumber.
	Parameters map[string]string
	// CSR makes the device generate its key (KeyType) and ask for a
	// certificate with CreateCertificateFromCsr, so that the key never
	// leaves it; otherwise CreateKeysAndCertificate makes both.
	CSR     bool
	KeyType pki.KeyType
	// Dir and Name say where to write the certificate (<Name>.crt) and key
	// (<Name>.key, mode 0600); Name "" means the thing's name.
	Dir, Name string
}

// ProvisionResult is what provisioning gave the device.
type ProvisionResult struct {
	CertificateID       string
	ThingName           string
	DeviceConfiguration map[string]string
	CertFile, KeyFile   string
}

// Topics of fleet provisioning's MQTT API, JSON format [AWS 6.1].
const (
	createTopic        = "$aws/certificates/create/json"
	createFromCSRTopic = "$aws/certificates/create-from-csr/json"
)

func registerTopic(template string) string {
	return "$aws/provisioning-templates/" + template + "/provision/json"
}

// rejection is the payload of a rejected reply.
type rejection struct {
	StatusCode   int    `json:"statusCode"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// replies routes the messages on reply topics to whoever waits for them.
type replies struct {
	mu      sync.Mutex
	waiting map[string]chan []byte
}

func (r *replies) expect(topics ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiting == nil {
		r.waiting = map[string]chan []byte{}
	}
	for _, t := range topics {
		r.waiting[t] = make(chan []byte, 1)
	}
}

func (r *replies) received(p paho.PublishReceived) (bool, error) {
	r.mu.Lock()
	ch := r.waiting[p.Packet.Topic]
	r.mu.Unlock()
	if ch != nil {
		select {
		case ch <- p.Packet.Payload:
		default: // a duplicate: the first answer counts
		}
	}
	return true, nil
}

// wait returns the first answer on accepted or rejected.
func (r *replies) wait(ctx context.Context, d *device, accepted, rejected string, within time.Duration) (payload []byte, ok bool, err error) {
	r.mu.Lock()
	acc, rej := r.waiting[accepted], r.waiting[rejected]
	r.mu.Unlock()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case p := <-acc:
		return p, true, nil
	case p := <-rej:
		return p, false, nil
	case e := <-d.ended:
		return nil, false, e
	case <-timer.C:
		return nil, false, fail(NotReceived, nil, fmt.Sprintf("no answer on %s or %s within %s: the claim's policies must allow iot:Receive on both "+
			"(and iot:Subscribe on their filters), or the server does not serve fleet provisioning", accepted, rejected, within))
	case <-ctx.Done():
		return nil, false, d.interrupted(ctx)
	}
}

// Provision runs the whole fleet-provisioning exchange with the claim
// certificate, writes the device's certificate and key, and checks them
// with one connection. Each step is written to cfg.Log.
func Provision(ctx context.Context, pc ProvisionConfig) (*ProvisionResult, error) {
	if pc.Template == "" {
		return nil, errors.New("device provision: no template name")
	}
	if pc.ClientID == "" {
		// Every device of a fleet shares the claim, and so its CN: a client
		// id of its own keeps devices provisioning at once from taking
		// over each other's connection.
		pc.ClientID = "provision-" + rand.Text()[:12]
	}
	if err := pc.Config.setDefaults(); err != nil {
		return nil, err
	}
	if pc.Dir == "" {
		pc.Dir = "."
	}
	d := &device{cfg: pc.Config, certID: pki.CertificateID(pc.Certificate.Leaf.Raw), gotMsg: make(chan struct{}, 1)}
	d.logf("fleet provisioning with the claim certificate %s, template %q", d.certID, pc.Template)
	var r replies
	c, err := d.connectRetrying(ctx, r.received)
	if err != nil {
		return nil, err
	}
	res, key, certPEM, err := d.provision(ctx, c, &r, pc)
	d.closing.Store(true)
	_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
	<-c.Done()
	if err != nil {
		return nil, err
	}
	d.logf("disconnected the claim connection")

	name := pc.Name
	if name == "" {
		name = res.ThingName
	}
	if name == "" {
		name = res.CertificateID
	}
	res.CertFile, res.KeyFile = filepath.Join(pc.Dir, name+".crt"), filepath.Join(pc.Dir, name+".key")
	if err := pki.WriteFileAtomic(res.CertFile, []byte(certPEM), 0o644); err != nil {
		return nil, fmt.Errorf("device provision: %w", err)
	}
	if err := pki.WriteFileAtomic(res.KeyFile, key, 0o600); err != nil {
		return nil, fmt.Errorf("device provision: %w", err)
	}
	d.logf("wrote the certificate to %s and its key to %s (0600)", res.CertFile, res.KeyFile)

	// The device's own connection, as its firmware would make next.
	own, err := tls.X509KeyPair([]byte(certPEM), key)
	if err != nil {
		return nil, fmt.Errorf("device provision: the issued certificate and key do not match: %w", err)
	}
	if own.Leaf, err = x509.ParseCertificate(own.Certificate[0]); err != nil {
		return nil, fmt.Errorf("device provision: %w", err)
	}
	next := pc.Config
	next.Certificate = own
	if res.ThingName != "" {
		next.ClientID = res.ThingName
	}
	d2 := &device{cfg: next, certID: res.CertificateID, gotMsg: make(chan struct{}, 1)}
	d2.ended = make(chan *Error, 1)
	c2, ack, aerr := d2.connect(ctx, func(paho.PublishReceived) (bool, error) { return true, nil })
	if aerr != nil {
		return res, fail(aerr.kind, aerr.err, "the device's own certificate does not connect: "+aerr.msg)
	}
	d.logf("connected with its own certificate as client id %q: CONNACK %s", next.ClientID, reason(ack.ReasonCode))
	d2.closing.Store(true)
	_ = c2.Disconnect(&paho.Disconnect{ReasonCode: 0})
	<-c2.Done()
	return res, nil
}

// provision asks for a certificate, then registers it.
func (d *device) provision(ctx context.Context, c *paho.Client, r *replies, pc ProvisionConfig) (res *ProvisionResult, key []byte, certPEM string, err error) {
	topic, request := createTopic, []byte("{}")
	if pc.CSR {
		kt := pc.KeyType
		if kt == "" {
			kt = pki.KeyECP256
		}
		signer, err := pki.GenerateKey(kt)
		if err != nil {
			return nil, nil, "", fmt.Errorf("device provision: %w", err)
		}
		csr, err := pki.CreateCSR(signer, pkix.Name{})
		if err != nil {
			return nil, nil, "", fmt.Errorf("device provision: %w", err)
		}
		keyPEM, err := pki.MarshalPrivateKeyPEM(signer)
		if err != nil {
			return nil, nil, "", fmt.Errorf("device provision: %w", err)
		}
		key = []byte(keyPEM)
		topic = createFromCSRTopic
		request, _ = json.Marshal(map[string]string{"certificateSigningRequest": pki.EncodeCSRPEM(csr)})
		d.logf("generated a %s key and a CSR: the key stays on the device", kt)
	}
	var created struct {
		CertificateID             string `json:"certificateId"`
		CertificatePEM            string `json:"certificatePem"`
		PrivateKey                string `json:"privateKey"`
		CertificateOwnershipToken string `json:"certificateOwnershipToken"`
	}
	if err := d.request(ctx, c, r, topic, request, &created); err != nil {
		return nil, nil, "", err
	}
	if !pc.CSR {
		key = []byte(created.PrivateKey)
	}
	d.logf("got certificate %s (PENDING_ACTIVATION until RegisterThing)", created.CertificateID)

	params := pc.Parameters
	if params == nil {
		params = map[string]string{}
	}
	body, _ := json.Marshal(map[string]any{"certificateOwnershipToken": created.CertificateOwnershipToken, "parameters": params})
	var registered struct {
		DeviceConfiguration map[string]string `json:"deviceConfiguration"`
		ThingName           string            `json:"thingName"`
	}
	if err := d.request(ctx, c, r, registerTopic(pc.Template), body, &registered); err != nil {
		return nil, nil, "", err
	}
	d.logf("registered: thing %q, device configuration %v", registered.ThingName, registered.DeviceConfiguration)
	return &ProvisionResult{CertificateID: created.CertificateID, ThingName: registered.ThingName, DeviceConfiguration: registered.DeviceConfiguration},
		key, created.CertificatePEM, nil
}

// request subscribes to topic's reply topics, publishes payload on topic,
// and decodes the accepted answer into out.
func (d *device) request(ctx context.Context, c *paho.Client, r *replies, topic string, payload []byte, out any) error {
	accepted, rejected := topic+"/accepted", topic+"/rejected"
	r.expect(accepted, rejected)
	for _, t := range []string{accepted, rejected} {
		if err := d.subscribeQoS(ctx, c, t, 1); err != nil {
			return err
		}
	}
	d.lastAction.Store("publish " + topic)
	pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload})
	if pr != nil && pr.ReasonCode >= 0x80 {
		return fail(Refused, err, fmt.Sprintf("PUBACK %s for %s: the claim's policies must allow iot:Publish on it", reason(pr.ReasonCode), topic))
	}
	if err != nil {
		return d.lost(ctx, err, "publishing to "+topic)
	}
	d.logf("published the request to %s", topic)
	answer, ok, err := r.wait(ctx, d, accepted, rejected, d.cfg.Wait)
	if err != nil {
		return err
	}
	if !ok {
		var rej rejection
		_ = json.Unmarshal(answer, &rej)
		return fail(Refused, nil, fmt.Sprintf("%s: rejected: %d %s: %s", topic, rej.StatusCode, rej.ErrorCode, rej.ErrorMessage))
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fail(Refused, err, fmt.Sprintf("%s: the accepted answer is not JSON: %v", topic, err))
	}
	return nil
}

// subscribeQoS subscribes to filter at qos, explaining a refusal.
func (d *device) subscribeQoS(ctx context.Context, c *paho.Client, filter string, qos byte) error {
	saved := d.cfg.QoS
	d.cfg.QoS = qos
	defer func() { d.cfg.QoS = saved }()
	return d.subscribe(ctx, c, filter)
}

// ParseParameters reads name=value pairs, as given to --param.
func ParseParameters(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter %q: want name=value", p)
		}
		out[k] = v
	}
	return out, nil
}
