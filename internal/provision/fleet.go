package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/template"
)

// FleetProvisioning is the Kind of every attempt of the fleet-provisioning
// MQTT API, in the attempts record and the metric.
const FleetProvisioning Kind = "FLEET_PROVISIONING"

// FleetRegistry is what fleet provisioning needs of the registry.
type FleetRegistry interface {
	CreatePendingKeysAndCertificate(ctx context.Context) (*registry.IssuedCertificate, error)
	CreatePendingCertificateFromCSR(ctx context.Context, csrPEM string) (*registry.Certificate, error)
	ProvisioningTemplate(ctx context.Context, name string) (*registry.ProvisioningTemplateWithBody, error)
	Certificate(ctx context.Context, id string) (*registry.Certificate, error)
	ProvisionFleetDevice(ctx context.Context, certificateID string, plan registry.ProvisionPlan) (*registry.ProvisionResult, error)
	DeleteUnclaimedCertificates(ctx context.Context, createdBefore time.Time) ([]string, error)
	RecordProvisioningAttempt(ctx context.Context, a registry.ProvisioningAttempt) error
}

var _ FleetRegistry = (*registry.Service)(nil)

// PreProvisioningHook runs a template's pre-provisioning hook: AWS invokes
// the Lambda function targetARN with in and provisions only when it answers
// allowProvisioning true, adding its parameterOverrides to the parameters
// (reference 6.2). Fleet gives it HookTimeout.
type PreProvisioningHook interface {
	PreProvision(ctx context.Context, targetARN string, in HookInput) (*HookOutput, error)
}

// HookTimeout is how long a pre-provisioning hook may take: AWS fails the
// request after 5 seconds (reference 6.2).
const HookTimeout = 5 * time.Second

// HookInput is the payload a pre-provisioning hook receives (reference 6.2).
type HookInput struct {
	ClaimCertificateID string            `json:"claimCertificateId"`
	CertificateID      string            `json:"certificateId"`
	CertificatePEM     string            `json:"certificatePem"`
	TemplateARN        string            `json:"templateArn"`
	ClientID           string            `json:"clientId"`
	Parameters         map[string]string `json:"parameters"`
}

// HookOutput is a pre-provisioning hook's answer (reference 6.2).
type HookOutput struct {
	AllowProvisioning  bool              `json:"allowProvisioning"`
	ParameterOverrides map[string]string `json:"parameterOverrides"`
}

// Fleet serves the device provisioning MQTT API of fleet provisioning
// (reference 6.1): CreateKeysAndCertificate, CreateCertificateFromCsr and
// RegisterThing, in JSON and CBOR. It is pure: the broker hands it each
// request an admitted connection publishes (HandlesRequest says which
// topics) and sends its one reply to that connection only. Its zero value
// (with Registry set) works, with the defaults the fields document.
type Fleet struct {
	Registry FleetRegistry
	// TokenKey is the HMAC-SHA256 key that signs certificateOwnershipTokens:
	// at least 32 random bytes (NewTokenKey), kept secret and kept across
	// restarts so that tokens outlive them. Nil means a random key made on
	// first use, which a restart forgets (with its tokens).
	TokenKey []byte
	// Hook runs templates' pre-provisioning hooks. Nil refuses
	// RegisterThing on a template that has one (AccessDenied), as AWS
	// refuses when its hook fails.
	Hook PreProvisioningHook
	// Account gives the template ARN a hook is told.
	Account iot.Account
	// Logger receives a line per attempt; nil logs nothing.
	Logger *slog.Logger
	// Events receives every attempt on FleetAttemptsTopic; nil drops them.
	Events Publisher
	// Metrics counts attempts (kind FLEET_PROVISIONING); nil counts nothing.
	Metrics AttemptCounter
	// Rates bound how many requests of each operation the server serves a
	// second; the zero value is AWS's rates.
	Rates FleetRates
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	throttle fleetThrottle
	keyOnce  sync.Once
	randKey  []byte
}

func (f *Fleet) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// key is TokenKey, or the random key of a Fleet without one.
func (f *Fleet) key() ([]byte, error) {
	if len(f.TokenKey) > 0 {
		return f.TokenKey, nil
	}
	f.keyOnce.Do(func() { f.randKey, _ = NewTokenKey() })
	if f.randKey == nil {
		return nil, errors.New("no token key: the random key could not be made")
	}
	return f.randKey, nil
}

// HandlesRequest reports whether topic is a fleet-provisioning request topic:
// $aws/certificates/create/{json,cbor}, $aws/certificates/create-from-csr/{json,cbor},
// $aws/provisioning-templates/<templateName>/provision/{json,cbor}.
func (f *Fleet) HandlesRequest(topic string) bool {
	_, ok := parseFleetTopic(topic)
	return ok
}

// HandleRequest serves one request published by an admitted connection (clientID, and the
// certificate id it authenticated with: the claim certificate) and answers it with exactly one
// call of reply, on <topic>/accepted or <topic>/rejected, payload in the topic's format.
// A topic that HandlesRequest refuses gets no reply.
//
// Every request, accepted or rejected, is recorded as a provisioning
// attempt (kind FLEET_PROVISIONING), logged and counted, with the detail;
// a rejection tells the device only a statusCode, an errorCode and a safe
// errorMessage.
func (f *Fleet) HandleRequest(ctx context.Context, clientID, certificateID, topic string, payload []byte, reply func(topic string, payload []byte)) {
	t, ok := parseFleetTopic(topic)
	if !ok {
		return
	}
	started := f.now()
	a := &fleetAttempt{op: t.op, clientID: clientID, claimID: certificateID, template: t.template}
	var out any
	var rej *rejection
	switch {
	case !f.throttle.allow(f.Rates, t.op, started):
		rej = reject(codeThrottled, "throttle", "Rate exceeded.", fmt.Errorf("more than the server's %s requests per second (--fleet-*-rate)", t.op))
	case t.op == opCreateKeysAndCertificate:
		out, rej = f.createKeysAndCertificate(ctx, t, payload, a)
	case t.op == opCreateCertificateFromCsr:
		out, rej = f.createCertificateFromCsr(ctx, t, payload, a)
	case t.op == opRegisterThing:
		out, rej = f.registerThing(ctx, t, payload, a)
	}
	replyTopic := topic + acceptedSuffix
	var body []byte
	if rej == nil {
		var err error
		if body, err = encodeReply(t.format, out); err != nil {
			rej = internalFailure("reply", fmt.Errorf("encode the accepted reply: %w", err))
		}
	}
	if rej != nil {
		replyTopic = topic + rejectedSuffix
		body, _ = encodeReply(t.format, rejectedReply{StatusCode: statusOf(rej.code), ErrorCode: rej.code, ErrorMessage: rej.message})
	}
	reply(replyTopic, body)
	f.report(ctx, a, rej, started)
}

// createKeysAndCertificate serves $aws/certificates/create/<fmt>: a new key
// pair and certificate, PENDING_ACTIVATION, and its ownership token.
func (f *Fleet) createKeysAndCertificate(ctx context.Context, t fleetTopic, payload []byte, a *fleetAttempt) (any, *rejection) {
	if err := decodeRequest(t.format, payload, &createKeysRequest{}); err != nil {
		return nil, badPayload(t, err)
	}
	ic, err := f.Registry.CreatePendingKeysAndCertificate(ctx)
	if err != nil {
		return nil, issueFailure(err)
	}
	a.certificateID, a.status = ic.Certificate.ID, ic.Certificate.Status
	tok, rej := f.token(ic.Certificate.ID)
	if rej != nil {
		return nil, rej
	}
	return createKeysAccepted{CertificateID: ic.Certificate.ID, CertificatePEM: ic.Certificate.PEM,
		PrivateKey: ic.PrivateKeyPEM, CertificateOwnershipToken: tok}, nil
}

// createCertificateFromCsr serves $aws/certificates/create-from-csr/<fmt>:
// a certificate for the device's CSR, PENDING_ACTIVATION, and its
// ownership token.
func (f *Fleet) createCertificateFromCsr(ctx context.Context, t fleetTopic, payload []byte, a *fleetAttempt) (any, *rejection) {
	var req createFromCSRRequest
	if err := decodeRequest(t.format, payload, &req); err != nil {
		return nil, badPayload(t, err)
	}
	if strings.TrimSpace(req.CertificateSigningRequest) == "" {
		return nil, reject(codeInvalidCSR, "csr", "Certificate signing request cannot be empty.", nil)
	}
	c, err := f.Registry.CreatePendingCertificateFromCSR(ctx, req.CertificateSigningRequest)
	if err != nil {
		return nil, issueFailure(err)
	}
	a.certificateID, a.status = c.ID, c.Status
	tok, rej := f.token(c.ID)
	if rej != nil {
		return nil, rej
	}
	return createFromCSRAccepted{CertificateOwnershipToken: tok, CertificateID: c.ID, CertificatePEM: c.PEM}, nil
}

// token makes the ownership token of a new certificate.
func (f *Fleet) token(certificateID string) (string, *rejection) {
	key, err := f.key()
	if err != nil {
		return "", internalFailure("token", err)
	}
	tok, err := newToken(key, certificateID, f.now().Add(TokenLifetime))
	if err != nil {
		return "", internalFailure("token", err)
	}
	return tok, nil
}

// issueFailure turns the registry's refusal to issue a certificate into a
// rejection: a bad CSR says what is wrong with it.
func issueFailure(err error) *rejection {
	var ie *iot.Error
	switch {
	case !errors.As(err, &ie):
		return internalFailure("certificate", err)
	case ie.Code == iot.InvalidRequest:
		return reject(codeInvalidCSR, "csr", ie.Message, err)
	case ie.Code == iot.NotConfigured:
		return reject(codeServiceUnavailable, "certificate", "The server cannot issue certificates.", err)
	}
	return internalFailure("certificate", err)
}

// registerThing serves $aws/provisioning-templates/<name>/provision/<fmt>:
// the template, of type FLEET_PROVISIONING and enabled, rendered for the
// certificate the token names (registry.PlanFleet) and carried out in one
// transaction (registry.ProvisionFleetDevice).
func (f *Fleet) registerThing(ctx context.Context, t fleetTopic, payload []byte, a *fleetAttempt) (any, *rejection) {
	var req registerThingRequest
	if err := decodeRequest(t.format, payload, &req); err != nil {
		return nil, badPayload(t, err)
	}
	key, err := f.key()
	if err != nil {
		return nil, internalFailure("token", err)
	}
	certID, err := checkToken(key, req.CertificateOwnershipToken, f.now())
	if err != nil {
		return nil, tokenRejection(err)
	}
	a.certificateID = certID
	tmpl, rej := f.fleetTemplate(ctx, t.template)
	if rej != nil {
		return nil, rej
	}
	params := req.Parameters
	if tmpl.Hook != nil {
		if params, rej = f.runHook(ctx, tmpl, certID, a, params); rej != nil {
			return nil, rej
		}
	}
	plan, err := registry.PlanFleet(tmpl.Body, certID, params)
	if err != nil {
		return nil, provisionFailure(err)
	}
	res, err := f.Registry.ProvisionFleetDevice(ctx, certID, plan)
	if err != nil {
		return nil, provisionFailure(err)
	}
	a.thingName, a.status, a.warnings = res.ThingName, res.Certificate.Status, res.Warnings
	dc := plan.DeviceConfiguration
	if dc == nil {
		dc = map[string]string{}
	}
	return registerThingAccepted{DeviceConfiguration: dc, ThingName: res.ThingName}, nil
}

// fleetTemplate returns the template RegisterThing names, with its default
// version's body, if it is one fleet provisioning may use.
func (f *Fleet) fleetTemplate(ctx context.Context, name string) (*registry.ProvisioningTemplateWithBody, *rejection) {
	tmpl, err := f.Registry.ProvisioningTemplate(ctx, name)
	switch {
	case iot.IsCode(err, iot.ResourceNotFound), iot.IsCode(err, iot.InvalidRequest): // the name breaks the naming rule
		return nil, reject(codeNotFound, "template", fmt.Sprintf("The provisioning template %s does not exist.", name), err)
	case err != nil:
		return nil, internalFailure("template", err)
	case tmpl.Type != registry.TemplateTypeFleetProvisioning:
		return nil, reject(codeInvalidTemplate, "template",
			fmt.Sprintf("The provisioning template %s is of type %s, not %s.", name, tmpl.Type, registry.TemplateTypeFleetProvisioning), nil)
	case !tmpl.Enabled:
		return nil, reject(codeInvalidTemplate, "template", fmt.Sprintf("The provisioning template %s is disabled.", name), nil)
	}
	return tmpl, nil
}

// runHook asks the template's pre-provisioning hook, and returns the
// parameters with its overrides (reference 6.2). A hook that is not
// configured, fails, takes longer than HookTimeout or does not allow
// provisioning refuses it.
func (f *Fleet) runHook(ctx context.Context, tmpl *registry.ProvisioningTemplateWithBody, certID string, a *fleetAttempt, params map[string]string) (map[string]string, *rejection) {
	const denied = "The pre-provisioning hook did not allow provisioning."
	target := tmpl.Hook.TargetARN
	if f.Hook == nil {
		return nil, reject(codeAccessDenied, "hook", denied, fmt.Errorf("the template has the pre-provisioning hook %s, and this server runs no hooks", target))
	}
	cert, err := f.Registry.Certificate(ctx, certID)
	if err != nil {
		if iot.IsCode(err, iot.ResourceNotFound) {
			return nil, reject(codeInvalidToken, "certificate", "The certificate of the ownership token no longer exists.", err)
		}
		return nil, internalFailure("hook", err)
	}
	hctx, cancel := context.WithTimeout(ctx, HookTimeout)
	defer cancel()
	out, err := f.Hook.PreProvision(hctx, target, HookInput{
		ClaimCertificateID: a.claimID, CertificateID: certID, CertificatePEM: cert.PEM,
		TemplateARN: f.Account.ProvisioningTemplateARN(tmpl.Name), ClientID: a.clientID, Parameters: maps.Clone(params),
	})
	switch {
	case err != nil:
		return nil, reject(codeAccessDenied, "hook", denied, fmt.Errorf("the pre-provisioning hook %s failed: %w", target, err))
	case out == nil || !out.AllowProvisioning:
		return nil, reject(codeAccessDenied, "hook", denied, fmt.Errorf("the pre-provisioning hook %s answered allowProvisioning false", target))
	}
	merged := maps.Clone(params)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, out.ParameterOverrides)
	return merged, nil
}

// tokenRejection says why an ownership token is refused, in AWS's words
// where AWS's are known (reference 6.1).
func tokenRejection(err error) *rejection {
	msg := "Certificate ownership token is invalid."
	switch {
	case errors.Is(err, errTokenEmpty):
		msg = "Certificate ownership token cannot be empty."
	case errors.Is(err, errTokenExpired):
		msg = "Certificate ownership token has expired."
	}
	return reject(codeInvalidToken, "token", msg, err)
}

// provisionFailure turns PlanFleet's and ProvisionFleetDevice's errors into
// rejections. Their *ProvisionError values carry messages safe for the
// device; anything else is internal.
func provisionFailure(err error) *rejection {
	var pe *registry.ProvisionError
	if !errors.As(err, &pe) {
		return internalFailure("provision", err)
	}
	msg, safe := safeMessage(pe.Err)
	switch {
	case pe.Step == "render" && safe:
		return reject(codeInvalidParameters, pe.Step, msg, err)
	case pe.Step == "template" && safe:
		return reject(codeInvalidTemplate, pe.Step, msg, err)
	case pe.Step == "certificate" && iot.IsCode(pe.Err, iot.ResourceNotFound):
		return reject(codeInvalidToken, pe.Step, "The certificate of the ownership token no longer exists.", err)
	case pe.Step == "certificate" && iot.IsCode(pe.Err, iot.CertificateState):
		return reject(codeInvalidToken, pe.Step, "Certificate ownership token has already been used.", err)
	case !safe:
		return internalFailure(pe.Step, err)
	}
	if pe.Resource != "" {
		msg = "Resources." + pe.Resource + ": " + msg
	}
	return reject(codeResourceRegistrationFailure, pe.Step, msg, err)
}

// safeMessage returns the client-safe text of an error: an *iot.Error's
// Message, or a *template.Error's text, which names only the template's
// places and values.
func safeMessage(err error) (string, bool) {
	var ie *iot.Error
	if errors.As(err, &ie) {
		return ie.Message, ie.Code != iot.InternalFailure
	}
	var te *template.Error
	if errors.As(err, &te) {
		return te.Error(), true
	}
	return "", false
}

// PruneUnclaimed deletes the certificates fleet provisioning issued whose
// ownership token has expired without RegisterThing claiming them: still
// PENDING_ACTIVATION, with no thing and no policy. AWS deletes them when
// the token expires (reference 6.1); iotcore does it when this runs, which
// the server does periodically. It returns how many it deleted.
func (f *Fleet) PruneUnclaimed(ctx context.Context) (int, error) {
	// A minute's grace: a token made a moment after its certificate lives
	// a moment longer.
	ids, err := f.Registry.DeleteUnclaimedCertificates(ctx, f.now().Add(-TokenLifetime-time.Minute))
	if len(ids) > 0 && f.Logger != nil {
		f.Logger.InfoContext(ctx, "deleted fleet-provisioning certificates never registered", "count", len(ids), "certificate_ids", ids)
	}
	if err != nil {
		return len(ids), fmt.Errorf("prune unclaimed certificates: %w", err)
	}
	return len(ids), nil
}
