package provision

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// fleetTemplateBody is a fleet-provisioning template in the shape of AWS's
// example: the thing named from a parameter, the certificate by the id the
// ownership token names, a policy from a document, and a device
// configuration.
const fleetTemplateBody = `{
  "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
  "Resources": {
    "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::Join": ["", ["sensor-", {"Ref": "SerialNumber"}]]},
      "AttributePayload": {"serial": {"Ref": "SerialNumber"}}}},
    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}},
    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}"}}
  },
  "DeviceConfiguration": {"FallbackUrl": "https://example.com/fallback", "LocationUrl": {"Fn::Join": ["", ["https://example.com/", {"Ref": "SerialNumber"}]]}}
}`

const claimID = "c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1"

// fleetEnv is a registry on SQLite with an issuing CA, and a Fleet on it
// whose clock the test moves.
type fleetEnv struct {
	reg   *registry.Service
	fleet *Fleet
	mu    sync.Mutex
	now   time.Time
	hook  *fakeHook
}

// clock is the test's time, which moves a millisecond a call so that
// attempts list in the order they happened.
func (e *fleetEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(time.Millisecond)
	return e.now
}

func (e *fleetEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func newFleetEnv(t testing.TB) *fleetEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &fleetEnv{now: time.Now(), hook: &fakeHook{allow: true}}
	acct := iot.Account{ID: "123456789012", Region: "us-east-1"}
	e.reg = &registry.Service{Store: db, Account: acct, IssuingCA: pkitest.NewRoot(t, "iotcore service CA"), Now: e.clock}
	key, err := NewTokenKey()
	if err != nil {
		t.Fatal(err)
	}
	e.fleet = &Fleet{Registry: e.reg, TokenKey: key, Account: acct, Now: e.clock, Hook: e.hook, Rates: UnlimitedFleetRates}
	e.template(t, "fleet", fleetTemplateBody, registry.TemplateTypeFleetProvisioning, true, nil)
	return e
}

func (e *fleetEnv) template(t testing.TB, name, body, typ string, enabled bool, hook *registry.ProvisioningHook) {
	t.Helper()
	_, err := e.reg.CreateProvisioningTemplate(context.Background(), registry.CreateProvisioningTemplateInput{
		Name: name, Body: body, Type: typ, Enabled: enabled, RoleARN: "arn:aws:iam::123456789012:role/Provisioning", Hook: hook})
	if err != nil {
		t.Fatalf("create template %s: %v", name, err)
	}
}

// call publishes one request and returns the one reply.
func (e *fleetEnv) call(t *testing.T, topic string, payload []byte) (string, []byte) {
	t.Helper()
	var topics []string
	var body []byte
	e.fleet.HandleRequest(context.Background(), "client-1", claimID, topic, payload, func(topic string, payload []byte) {
		topics = append(topics, topic)
		body = payload
	})
	if len(topics) != 1 {
		t.Fatalf("%s: got %d replies %v; want exactly one", topic, len(topics), topics)
	}
	return topics[0], body
}

// encode encodes a request in the topic's format.
func encode(t *testing.T, format string, v any) []byte {
	t.Helper()
	b, err := encodeReply(format, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decode decodes a reply in format strictly: every field of the reply must
// be one of v's.
func decode(t *testing.T, format string, body []byte, v any) {
	t.Helper()
	var err error
	if format == formatCBOR {
		dm, _ := cbor.DecOptions{ExtraReturnErrors: cbor.ExtraDecErrorUnknownField}.DecMode()
		err = dm.Unmarshal(body, v)
	} else {
		d := json.NewDecoder(strings.NewReader(string(body)))
		d.DisallowUnknownFields()
		err = d.Decode(v)
	}
	if err != nil {
		t.Fatalf("decode %s reply %q: %v", format, body, err)
	}
}

// create gets a new certificate and its token by CreateKeysAndCertificate
// (key nil) or CreateCertificateFromCsr (a CSR for key).
func (e *fleetEnv) create(t *testing.T, format string, key crypto.Signer) (certID, token string) {
	t.Helper()
	if key == nil {
		topic, body := e.call(t, createTopicPrefix+format, nil)
		if topic != createTopicPrefix+format+acceptedSuffix {
			t.Fatalf("CreateKeysAndCertificate: reply on %s: %q", topic, body)
		}
		var got createKeysAccepted
		decode(t, format, body, &got)
		cert, err := pki.ParseCertificatePEM(got.CertificatePEM)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := pki.ParsePrivateKeyPEM(got.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := pki.CheckKeyMatch(cert, priv); err != nil {
			t.Fatal(err)
		}
		if _, ok := priv.(*rsa.PrivateKey); !ok || !strings.Contains(got.PrivateKey, "RSA PRIVATE KEY") {
			t.Errorf("private key is %T; want AWS's RSA in PKCS#1", priv)
		}
		if got.CertificateID != pki.CertificateID(cert.Raw) || got.CertificateOwnershipToken == "" {
			t.Fatalf("accepted: %+v", got)
		}
		if !pki.SignedBy(cert, e.reg.IssuingCA.Certificate) {
			t.Error("the certificate is not signed by the service CA")
		}
		return got.CertificateID, got.CertificateOwnershipToken
	}
	csr, err := pki.CreateCSR(key, pkix.Name{CommonName: "device"})
	if err != nil {
		t.Fatal(err)
	}
	topic, body := e.call(t, createFromCSRTopicPrefix+format, encode(t, format, createFromCSRRequest{CertificateSigningRequest: pki.EncodeCSRPEM(csr)}))
	if topic != createFromCSRTopicPrefix+format+acceptedSuffix {
		t.Fatalf("CreateCertificateFromCsr: reply on %s: %q", topic, body)
	}
	var got createFromCSRAccepted
	decode(t, format, body, &got)
	cert, err := pki.ParseCertificatePEM(got.CertificatePEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.CheckKeyMatch(cert, key); err != nil {
		t.Fatal(err)
	}
	if got.CertificateID != pki.CertificateID(cert.Raw) || got.CertificateOwnershipToken == "" {
		t.Fatalf("accepted: %+v", got)
	}
	return got.CertificateID, got.CertificateOwnershipToken
}

func (e *fleetEnv) register(t *testing.T, format, template, token string, params map[string]string) (string, []byte) {
	t.Helper()
	return e.call(t, templatesTopicPrefix+template+provisionTopicInfix+format,
		encode(t, format, registerThingRequest{CertificateOwnershipToken: token, Parameters: params}))
}

// counts is how many of each resource the registry holds.
type counts struct{ things, certificates, active, policies int }

func (e *fleetEnv) counts(t *testing.T) counts {
	t.Helper()
	var c counts
	err := e.reg.Store.View(context.Background(), func(tx registry.Tx) error {
		things, err := tx.ListThings(context.Background(), registry.ThingFilter{}, registry.Page{})
		if err != nil {
			return err
		}
		certs, err := tx.ListCertificates(context.Background(), registry.CertificateFilter{}, registry.Page{})
		if err != nil {
			return err
		}
		policies, err := tx.ListPolicies(context.Background(), false, registry.Page{})
		if err != nil {
			return err
		}
		c = counts{things: len(things), certificates: len(certs), policies: len(policies)}
		for _, cert := range certs {
			if cert.Status == iot.StatusActive {
				c.active++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *fleetEnv) attempts(t *testing.T) []registry.ProvisioningAttempt {
	t.Helper()
	a, _, err := e.reg.ListProvisioningAttempts(context.Background(), registry.ProvisioningAttemptFilter{}, registry.PageRequest{Size: 250})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestFleetProvisioning runs the whole exchange, in JSON and CBOR, with
// each way of getting a certificate: the certificate is
// PENDING_ACTIVATION until RegisterThing makes it ACTIVE with its thing,
// policy and device configuration, and each step is recorded.
func TestFleetProvisioning(t *testing.T) {
	for _, format := range []string{formatJSON, formatCBOR} {
		for _, kt := range []pki.KeyType{"", pki.KeyRSA2048, pki.KeyECP256, pki.KeyECP384} {
			name := format + "/CreateKeysAndCertificate"
			if kt != "" {
				name = format + "/CreateCertificateFromCsr/" + string(kt)
			}
			t.Run(name, func(t *testing.T) {
				e := newFleetEnv(t)
				ctx := context.Background()
				var key crypto.Signer
				if kt != "" {
					key = pkitest.NewKey(t, kt)
				}
				certID, token := e.create(t, format, key)
				c, err := e.reg.Certificate(ctx, certID)
				if err != nil || c.Status != iot.StatusPendingActivation {
					t.Fatalf("after create: %+v, %v; want PENDING_ACTIVATION", c, err)
				}
				topic, body := e.register(t, format, "fleet", token, map[string]string{"SerialNumber": "0042"})
				if want := templatesTopicPrefix + "fleet/provision/" + format + acceptedSuffix; topic != want {
					t.Fatalf("RegisterThing replied on %s (%q); want %s", topic, body, want)
				}
				var got registerThingAccepted
				decode(t, format, body, &got)
				want := registerThingAccepted{ThingName: "sensor-0042", DeviceConfiguration: map[string]string{
					"FallbackUrl": "https://example.com/fallback", "LocationUrl": "https://example.com/0042"}}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("accepted %+v; want %+v", got, want)
				}
				if c, _ := e.reg.Certificate(ctx, certID); c.Status != iot.StatusActive {
					t.Errorf("certificate status %s; want ACTIVE", c.Status)
				}
				things, _, err := e.reg.ListPrincipalThings(ctx, e.reg.Account.CertificateARN(certID), "", registry.PageRequest{})
				if err != nil || len(things) != 1 || things[0].ThingName != "sensor-0042" {
					t.Errorf("things of the certificate: %+v, %v", things, err)
				}
				policies, _, err := e.reg.ListAttachedPolicies(ctx, e.reg.Account.CertificateARN(certID), false, registry.PageRequest{})
				if err != nil || len(policies) != 1 {
					t.Errorf("policies of the certificate: %v, %v", policies, err)
				}
				attempts := e.attempts(t)
				if len(attempts) != 2 {
					t.Fatalf("%d attempts recorded; want 2", len(attempts))
				}
				for _, a := range attempts {
					if a.Kind != string(FleetProvisioning) || a.CertificateID != certID || a.Step != "" || !strings.Contains(a.Reason, claimID) {
						t.Errorf("attempt %+v", a)
					}
				}
				if attempts[0].Outcome != registry.AttemptProvisioned || attempts[0].ThingName != "sensor-0042" || attempts[1].Outcome != registry.AttemptRegistered {
					t.Errorf("attempts, newest first: %+v", attempts)
				}
			})
		}
	}
}

// TestFleetCreateRequests checks the payloads the create topics accept: an
// empty one or an empty object (the SDKs send either), and nothing else.
func TestFleetCreateRequests(t *testing.T) {
	e := newFleetEnv(t)
	for _, tc := range []struct {
		name, topic string
		payload     []byte
		accepted    bool
	}{
		{"JSON empty", createTopicPrefix + "json", nil, true},
		{"JSON {}", createTopicPrefix + "json", []byte(" {} "), true},
		{"CBOR empty", createTopicPrefix + "cbor", nil, true},
		{"CBOR empty map", createTopicPrefix + "cbor", []byte{0xa0}, true},
		{"CBOR self-described empty map", createTopicPrefix + "cbor", []byte{0xd9, 0xd9, 0xf7, 0xa0}, true},
		{"CBOR -1", createTopicPrefix + "cbor", []byte{0x20}, false},
		{"CBOR map and more", createTopicPrefix + "cbor", []byte{0xa0, 0xa0}, false},
		{"JSON array", createTopicPrefix + "json", []byte("[]"), false},
		{"JSON garbage", createTopicPrefix + "json", []byte("{nope"), false},
		{"JSON two objects", createTopicPrefix + "json", []byte("{}{}"), false},
		{"CBOR text", createTopicPrefix + "cbor", []byte("\x63abc"), false},
		{"CBOR truncated", createTopicPrefix + "cbor", []byte{0xa1, 0x61}, false},
		{"CSR in JSON to CBOR", createFromCSRTopicPrefix + "cbor", []byte(`{"certificateSigningRequest":"x"}`), false},
		{"CSR not a string", createFromCSRTopicPrefix + "json", []byte(`{"certificateSigningRequest":42}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts(t)
			topic, body := e.call(t, tc.topic, tc.payload)
			if tc.accepted != (topic == tc.topic+acceptedSuffix) {
				t.Fatalf("reply on %s: %q", topic, body)
			}
			if tc.accepted {
				return
			}
			format := tc.topic[strings.LastIndex(tc.topic, "/")+1:]
			var rej rejectedReply
			decode(t, format, body, &rej)
			if rej.StatusCode != 400 || rej.ErrorCode != codeInvalidPayload {
				t.Errorf("rejected %+v; want 400 %s", rej, codeInvalidPayload)
			}
			if after := e.counts(t); after != before {
				t.Errorf("counts %+v, before %+v", after, before)
			}
		})
	}
}

// csrPEM makes a PEM CSR for key; damage, when set, alters its DER first.
func csrPEM(t *testing.T, key crypto.Signer, damage func(der []byte)) string {
	t.Helper()
	csr, err := pki.CreateCSR(key, pkix.Name{CommonName: "device"})
	if err != nil {
		t.Fatal(err)
	}
	if damage == nil {
		return pki.EncodeCSRPEM(csr)
	}
	der := append([]byte(nil), csr.Raw...)
	damage(der)
	return pki.EncodeCSRPEM(&x509.CertificateRequest{Raw: der})
}

// TestFleetCreateCertificateFromCsrRejected sends bad CSRs: each is
// rejected with 400 InvalidCertificateSigningRequest saying what is wrong,
// and no certificate is made.
func TestFleetCreateCertificateFromCsrRejected(t *testing.T) {
	e := newFleetEnv(t)
	ec := pkitest.NewKey(t, pki.KeyECP256)
	small, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // too small on purpose
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	// another key's signature: the CSR of one key with the signature of
	// another's CSR for the same subject.
	other := pkitest.NewKey(t, pki.KeyECP256)
	otherCSR, _ := pki.CreateCSR(other, pkix.Name{CommonName: "device"})
	csr, _ := pki.CreateCSR(ec, pkix.Name{CommonName: "device"})
	forged := &x509.CertificateRequest{}
	forgedDER, err := forgeCSR(csr, otherCSR)
	if err != nil {
		t.Fatal(err)
	}
	forged.Raw = forgedDER
	for _, tc := range []struct {
		name, csr, want string
	}{
		{"empty", "", "cannot be empty"},
		{"not PEM", "hello", "not a valid CSR"},
		{"a certificate", pki.EncodeCertificatePEM(e.reg.IssuingCA.Certificate), "not a valid CSR"},
		{"signed by another key", pki.EncodeCSRPEM(forged), "signature"},
		{"damaged signature", csrPEM(t, ec, func(der []byte) { der[len(der)-3] ^= 0x55 }), "not a valid CSR"},
		{"RSA 1024", csrPEM(t, small, nil), "RSA key of 1024 bits"},
		{"Ed25519", csrPEM(t, edKey, nil), "Ed25519"},
	} {
		for _, format := range []string{formatJSON, formatCBOR} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				before := e.counts(t)
				topic := createFromCSRTopicPrefix + format
				got, body := e.call(t, topic, encode(t, format, createFromCSRRequest{CertificateSigningRequest: tc.csr}))
				if got != topic+rejectedSuffix {
					t.Fatalf("reply on %s: %q", got, body)
				}
				var rej rejectedReply
				decode(t, format, body, &rej)
				if rej.StatusCode != 400 || rej.ErrorCode != codeInvalidCSR || !strings.Contains(rej.ErrorMessage, tc.want) {
					t.Errorf("rejected %+v; want 400 %s saying %q", rej, codeInvalidCSR, tc.want)
				}
				if after := e.counts(t); after != before {
					t.Errorf("counts %+v, before %+v", after, before)
				}
			})
		}
	}
}

// forgeCSR returns csr's request info signed with other's signature: a CSR
// whose key did not sign it.
func forgeCSR(csr, other *x509.CertificateRequest) ([]byte, error) {
	// A CSR is SEQUENCE { info, algorithm, signature }: keep csr's info and
	// take other's algorithm and signature.
	info := csr.RawTBSCertificateRequest
	otherRest := other.Raw[len(other.Raw)-tailLen(other):]
	body := append(append([]byte(nil), info...), otherRest...)
	return append(derHeader(0x30, len(body)), body...), nil
}

// tailLen is the length of a CSR's algorithm and signature.
func tailLen(c *x509.CertificateRequest) int {
	hdr := len(c.Raw) - contentLen(c.Raw)
	return len(c.Raw) - hdr - len(c.RawTBSCertificateRequest)
}

func contentLen(der []byte) int {
	if der[1] < 0x80 {
		return int(der[1])
	}
	n := int(der[1] & 0x7f)
	l := 0
	for _, b := range der[2 : 2+n] {
		l = l<<8 | int(b)
	}
	return l
}

func derHeader(tag byte, n int) []byte {
	switch {
	case n < 0x80:
		return []byte{tag, byte(n)}
	case n < 0x100:
		return []byte{tag, 0x81, byte(n)}
	}
	return []byte{tag, 0x82, byte(n >> 8), byte(n)}
}

// fakeHook is a pre-provisioning hook that answers as told.
type fakeHook struct {
	mu        sync.Mutex
	allow     bool
	overrides map[string]string
	err       error
	got       []HookInput
}

func (h *fakeHook) PreProvision(ctx context.Context, target string, in HookInput) (*HookOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, in)
	if h.err != nil {
		return nil, h.err
	}
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("no deadline")
	}
	return &HookOutput{AllowProvisioning: h.allow, ParameterOverrides: h.overrides}, nil
}

// TestFleetRegisterThingRejected sends RegisterThing requests that must
// fail: each is rejected with its statusCode and errorCode, nothing is
// created, the certificate stays PENDING_ACTIVATION (so that the device may
// try again), and the failure is recorded.
func TestFleetRegisterThingRejected(t *testing.T) {
	params := map[string]string{"SerialNumber": "7"}
	type request struct {
		template, token string
		params          map[string]string
		payload         []byte // instead of the token and parameters
	}
	hook := &registry.ProvisioningHook{TargetARN: "arn:aws:lambda:us-east-1:123456789012:function:check"}
	for _, tc := range []struct {
		name string
		// setup prepares the registry and returns the request for a
		// certificate whose token is token.
		setup      func(t *testing.T, e *fleetEnv, token string) request
		status     int
		code, want string
	}{
		{"unknown template", func(t *testing.T, e *fleetEnv, tok string) request { return request{"nope", tok, params, nil} },
			404, codeNotFound, "The provisioning template nope does not exist."},
		{"disabled template", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "off", fleetTemplateBody, registry.TemplateTypeFleetProvisioning, false, nil)
			return request{"off", tok, params, nil}
		}, 400, codeInvalidTemplate, "The provisioning template off is disabled."},
		{"JITP template", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "jitp", `{"Parameters":{"AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"}}}}}`, registry.TemplateTypeJITP, true, nil)
			return request{"jitp", tok, params, nil}
		}, 400, codeInvalidTemplate, "is of type JITP, not FLEET_PROVISIONING"},
		{"missing parameter", func(t *testing.T, e *fleetEnv, tok string) request { return request{"fleet", tok, nil, nil} },
			400, codeInvalidParameters, `parameter "SerialNumber" has no value`},
		{"parameter too long", func(t *testing.T, e *fleetEnv, tok string) request {
			return request{"fleet", tok, map[string]string{"SerialNumber": strings.Repeat("x", 4097)}, nil}
		}, 400, codeInvalidParameters, "the limit is 4096"},
		{"thing name breaks the rule", func(t *testing.T, e *fleetEnv, tok string) request {
			return request{"fleet", tok, map[string]string{"SerialNumber": "a b"}, nil}
		}, 400, codeInvalidParameters, "ThingName"},
		{"empty token", func(t *testing.T, e *fleetEnv, tok string) request { return request{"fleet", "", params, nil} },
			400, codeInvalidToken, "Certificate ownership token cannot be empty."},
		{"garbage token", func(t *testing.T, e *fleetEnv, tok string) request {
			return request{"fleet", "not-a-token", params, nil}
		},
			400, codeInvalidToken, "Certificate ownership token is invalid."},
		{"tampered token", func(t *testing.T, e *fleetEnv, tok string) request {
			b := []byte(tok)
			b[10] = map[bool]byte{true: 'B', false: 'A'}[b[10] == 'A']
			return request{"fleet", string(b), params, nil}
		}, 400, codeInvalidToken, "Certificate ownership token is invalid."},
		{"another server's token", func(t *testing.T, e *fleetEnv, tok string) request {
			id, err := checkToken(e.fleet.TokenKey, tok, e.clock())
			if err != nil {
				t.Fatal(err)
			}
			other, _ := NewTokenKey()
			forged, err := newToken(other, id, e.clock().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return request{"fleet", forged, params, nil}
		}, 400, codeInvalidToken, "Certificate ownership token is invalid."},
		{"expired token", func(t *testing.T, e *fleetEnv, tok string) request {
			e.advance(TokenLifetime + time.Second)
			return request{"fleet", tok, params, nil}
		}, 400, codeInvalidToken, "Certificate ownership token has expired."},
		{"payload not JSON", func(t *testing.T, e *fleetEnv, tok string) request {
			return request{"fleet", tok, params, []byte(`{"certificateOwnershipToken": 1}`)}
		}, 400, codeInvalidPayload, "not a valid JSON object"},
		{"missing thing type", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "typed", strings.Replace(fleetTemplateBody, `"AttributePayload"`, `"ThingTypeName": "nosuchtype", "AttributePayload"`, 1), registry.TemplateTypeFleetProvisioning, true, nil)
			return request{"typed", tok, params, nil}
		}, 400, codeResourceRegistrationFailure, "Resources.thing:"},
		{"missing policy", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "named", `{"Parameters":{"AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":"t1"}},"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"}}},"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"nosuchpolicy"}}}}`, registry.TemplateTypeFleetProvisioning, true, nil)
			return request{"named", tok, params, nil}
		}, 400, codeResourceRegistrationFailure, "Resources.policy:"},
		{"no certificate resource", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "nocert", `{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":"t1"}}}}`, registry.TemplateTypeFleetProvisioning, true, nil)
			return request{"nocert", tok, params, nil}
		}, 400, codeInvalidTemplate, "needs an AWS::IoT::Certificate resource"},
		{"certificate named by another id", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "fixed", `{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":"t1"}},"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":"`+claimID+`"}}}}`, registry.TemplateTypeFleetProvisioning, true, nil)
			return request{"fixed", tok, params, nil}
		}, 400, codeInvalidTemplate, "names another certificate"},
		{"hook says no", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "hooked", fleetTemplateBody, registry.TemplateTypeFleetProvisioning, true, hook)
			e.hook.allow = false
			return request{"hooked", tok, params, nil}
		}, 403, codeAccessDenied, "The pre-provisioning hook did not allow provisioning."},
		{"hook fails", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "hooked", fleetTemplateBody, registry.TemplateTypeFleetProvisioning, true, hook)
			e.hook.err = errors.New("lambda exploded")
			return request{"hooked", tok, params, nil}
		}, 403, codeAccessDenied, "The pre-provisioning hook did not allow provisioning."},
		{"no hook runner", func(t *testing.T, e *fleetEnv, tok string) request {
			e.template(t, "hooked", fleetTemplateBody, registry.TemplateTypeFleetProvisioning, true, hook)
			e.fleet.Hook = nil
			return request{"hooked", tok, params, nil}
		}, 403, codeAccessDenied, "The pre-provisioning hook did not allow provisioning."},
	} {
		for _, format := range []string{formatJSON, formatCBOR} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				e := newFleetEnv(t)
				certID, token := e.create(t, format, pkitest.NewKey(t, pki.KeyECP256))
				req := tc.setup(t, e, token)
				before, attemptsBefore := e.counts(t), len(e.attempts(t))
				payload := req.payload
				if payload == nil {
					payload = encode(t, format, registerThingRequest{CertificateOwnershipToken: req.token, Parameters: req.params})
				} else if format == formatCBOR {
					payload = []byte{0xa1, 0x78} // truncated
				}
				topic := templatesTopicPrefix + req.template + provisionTopicInfix + format
				got, body := e.call(t, topic, payload)
				if got != topic+rejectedSuffix {
					t.Fatalf("reply on %s: %q", got, body)
				}
				var rej rejectedReply
				decode(t, format, body, &rej)
				want := tc.want
				if tc.code == codeInvalidPayload && format == formatCBOR {
					want = "not a valid CBOR object"
				}
				if rej.StatusCode != tc.status || rej.ErrorCode != tc.code || !strings.Contains(rej.ErrorMessage, want) {
					t.Errorf("rejected %+v; want %d %s saying %q", rej, tc.status, tc.code, want)
				}
				if strings.Contains(rej.ErrorMessage, "lambda exploded") || strings.Contains(rej.ErrorMessage, "Exception") {
					t.Errorf("the device is told too much: %q", rej.ErrorMessage)
				}
				if after := e.counts(t); after != before {
					t.Errorf("counts %+v, before %+v: something was half-created", after, before)
				}
				if c, err := e.reg.Certificate(context.Background(), certID); err != nil || c.Status != iot.StatusPendingActivation {
					t.Errorf("certificate %+v, %v; want it PENDING_ACTIVATION", c, err)
				}
				attempts := e.attempts(t)
				if len(attempts) != attemptsBefore+1 || attempts[0].Outcome != registry.AttemptFailed || attempts[0].Step == "" ||
					!strings.Contains(attempts[0].Reason, tc.code) {
					t.Errorf("newest attempt %+v; want a failure naming %s", attempts[0], tc.code)
				}
			})
		}
	}
}

// TestFleetRegisterThingOnce: a token provisions its certificate once; the
// same token again is refused and changes nothing. A template with a hook
// gets the hook's parameter overrides, and the hook the request.
func TestFleetRegisterThingOnce(t *testing.T) {
	e := newFleetEnv(t)
	e.template(t, "hooked", fleetTemplateBody, registry.TemplateTypeFleetProvisioning, true,
		&registry.ProvisioningHook{TargetARN: "arn:aws:lambda:us-east-1:123456789012:function:check"})
	e.hook.overrides = map[string]string{"SerialNumber": "from-hook"}
	certID, token := e.create(t, formatJSON, nil)
	topic, body := e.register(t, formatJSON, "hooked", token, map[string]string{"SerialNumber": "1"})
	var got registerThingAccepted
	if decode(t, formatJSON, body, &got); !strings.HasSuffix(topic, acceptedSuffix) || got.ThingName != "sensor-from-hook" {
		t.Fatalf("RegisterThing: %s %q", topic, body)
	}
	if len(e.hook.got) != 1 || e.hook.got[0].CertificateID != certID || e.hook.got[0].ClaimCertificateID != claimID ||
		e.hook.got[0].ClientID != "client-1" || e.hook.got[0].Parameters["SerialNumber"] != "1" ||
		e.hook.got[0].TemplateARN != "arn:aws:iot:us-east-1:123456789012:provisioningtemplate/hooked" || e.hook.got[0].CertificatePEM == "" {
		t.Errorf("the hook got %+v", e.hook.got)
	}
	before := e.counts(t)
	topic, body = e.register(t, formatJSON, "fleet", token, map[string]string{"SerialNumber": "2"})
	var rej rejectedReply
	if decode(t, formatJSON, body, &rej); !strings.HasSuffix(topic, rejectedSuffix) || rej.ErrorCode != codeInvalidToken || !strings.Contains(rej.ErrorMessage, "already been used") {
		t.Errorf("RegisterThing again: %s %q", topic, body)
	}
	if after := e.counts(t); after != before {
		t.Errorf("counts %+v, before %+v", after, before)
	}
}

// TestFleetInactiveStatus: the template's Status, in any case, is the
// certificate's status after RegisterThing.
func TestFleetInactiveStatus(t *testing.T) {
	e := newFleetEnv(t)
	e.template(t, "inactive", strings.Replace(fleetTemplateBody, `"Status": "Active"`, `"Status": "inactive"`, 1), registry.TemplateTypeFleetProvisioning, true, nil)
	certID, token := e.create(t, formatCBOR, pkitest.NewKey(t, pki.KeyECP256))
	if topic, body := e.register(t, formatCBOR, "inactive", token, map[string]string{"SerialNumber": "9"}); !strings.HasSuffix(topic, acceptedSuffix) {
		t.Fatalf("RegisterThing: %s %q", topic, body)
	}
	if c, _ := e.reg.Certificate(context.Background(), certID); c.Status != iot.StatusInactive {
		t.Errorf("status %s; want INACTIVE", c.Status)
	}
}

// TestFleetConcurrentRegisterThing provisions 200 devices with one claim at
// once: each gets its own thing and certificate, and the registry holds
// exactly 200 of each, all ACTIVE.
func TestFleetConcurrentRegisterThing(t *testing.T) {
	const n = 200
	e := newFleetEnv(t)
	key := pkitest.NewKey(t, pki.KeyECP256)
	tokens := make([]string, n)
	for i := range tokens {
		// One key for all: the CSR path issues a new certificate (a new
		// serial) every time, and makes the test fast.
		_, tokens[i] = e.create(t, formatJSON, key)
	}
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i, tok := range tokens {
		wg.Go(func() {
			format := []string{formatJSON, formatCBOR}[i%2]
			payload, _ := encodeReply(format, registerThingRequest{CertificateOwnershipToken: tok, Parameters: map[string]string{"SerialNumber": fmt.Sprint(i)}})
			topic := templatesTopicPrefix + "fleet/provision/" + format
			replies := 0
			e.fleet.HandleRequest(context.Background(), fmt.Sprint("client-", i), claimID, topic, payload, func(got string, body []byte) {
				replies++
				if got != topic+acceptedSuffix {
					errs <- fmt.Sprintf("device %d: %s %q", i, got, body)
				}
			})
			if replies != 1 {
				errs <- fmt.Sprintf("device %d: %d replies", i, replies)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := e.counts(t), (counts{things: n, certificates: n, active: n, policies: 1}); got != want {
		t.Errorf("counts %+v; want %+v", got, want)
	}
}

// TestPruneUnclaimed: a certificate never registered is deleted once its
// token has expired; a registered one, and one whose token is still good,
// stay; so does a JITR certificate, PENDING_ACTIVATION under its CA.
func TestPruneUnclaimed(t *testing.T) {
	e := newFleetEnv(t)
	ctx := context.Background()
	unclaimed, _ := e.create(t, formatJSON, pkitest.NewKey(t, pki.KeyECP256))
	claimed, token := e.create(t, formatJSON, pkitest.NewKey(t, pki.KeyECP256))
	if topic, body := e.register(t, formatJSON, "fleet", token, map[string]string{"SerialNumber": "1"}); !strings.HasSuffix(topic, acceptedSuffix) {
		t.Fatalf("RegisterThing: %s %q", topic, body)
	}
	deviceCA := pkitest.NewRoot(t, "Device CA")
	ca, err := e.reg.RegisterCACertificate(ctx, registry.RegisterCAInput{CACertificatePEM: pki.EncodeCertificatePEM(deviceCA.Certificate), Mode: iot.ModeSNIOnly, SetAsActive: true, AllowAutoRegistration: true})
	if err != nil {
		t.Fatal(err)
	}
	jitrCert, _ := pkitest.NewClient(t, deviceCA, pkix.Name{CommonName: "jitr"})
	if _, _, err := e.reg.RegisterPending(ctx, jitrCert, ca); err != nil {
		t.Fatal(err)
	}
	if n, err := e.fleet.PruneUnclaimed(ctx); err != nil || n != 0 {
		t.Fatalf("PruneUnclaimed within the hour: %d, %v; want 0", n, err)
	}
	e.advance(TokenLifetime + 2*time.Minute)
	fresh, _ := e.create(t, formatJSON, pkitest.NewKey(t, pki.KeyECP256))
	if n, err := e.fleet.PruneUnclaimed(ctx); err != nil || n != 1 {
		t.Fatalf("PruneUnclaimed after the hour: %d, %v; want 1", n, err)
	}
	if _, err := e.reg.Certificate(ctx, unclaimed); !iot.IsCode(err, iot.ResourceNotFound) {
		t.Errorf("the unclaimed certificate: %v; want it deleted", err)
	}
	for _, id := range []string{claimed, fresh, pki.CertificateID(jitrCert.Raw)} {
		if _, err := e.reg.Certificate(ctx, id); err != nil {
			t.Errorf("certificate %s: %v; want it kept", id, err)
		}
	}
}

// TestFleetTopics checks which topics are requests and which replies.
func TestFleetTopics(t *testing.T) {
	f := &Fleet{}
	for _, tc := range []struct {
		topic          string
		request, reply bool
	}{
		{"$aws/certificates/create/json", true, false},
		{"$aws/certificates/create/cbor", true, false},
		{"$aws/certificates/create-from-csr/json", true, false},
		{"$aws/certificates/create-from-csr/cbor", true, false},
		{"$aws/provisioning-templates/fleet/provision/json", true, false},
		{"$aws/provisioning-templates/my_template-1/provision/cbor", true, false},
		{"$aws/certificates/create/json/accepted", false, true},
		{"$aws/certificates/create/cbor/rejected", false, true},
		{"$aws/certificates/create-from-csr/json/accepted", false, true},
		{"$aws/provisioning-templates/fleet/provision/json/accepted", false, true},
		{"$aws/provisioning-templates/fleet/provision/cbor/rejected", false, true},
		{"$aws/certificates/create/xml", false, false},
		{"$aws/certificates/create", false, false},
		{"$aws/certificates/create/json/other", false, false},
		{"$aws/provisioning-templates//provision/json", false, false},
		{"$aws/provisioning-templates/a/b/provision/json", false, false},
		{"$aws/provisioning-templates/+/provision/json", false, false},
		{"$aws/provisioning-templates/fleet/provision/json/accepted/x", false, false},
		{"$aws/things/t/shadow/update", false, false},
		{"$aws/provisioning-templates/fleet/provision/json/accepted/accepted", false, false},
	} {
		if got := f.HandlesRequest(tc.topic); got != tc.request {
			t.Errorf("HandlesRequest(%q) = %v; want %v", tc.topic, got, tc.request)
		}
		if got := IsFleetReplyTopic(tc.topic); got != tc.reply {
			t.Errorf("IsFleetReplyTopic(%q) = %v; want %v", tc.topic, got, tc.reply)
		}
	}
}

// TestOwnershipToken: a token names its certificate until it expires, and
// any change to it, or another key, makes it invalid.
func TestOwnershipToken(t *testing.T) {
	key, _ := NewTokenKey()
	other, _ := NewTokenKey()
	id := strings.Repeat("ab", 32)
	now := time.Now()
	tok, err := newToken(key, id, now.Add(TokenLifetime))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := checkToken(key, tok, now); err != nil || got != id {
		t.Fatalf("checkToken: %q, %v; want %q", got, err, id)
	}
	if _, err := checkToken(key, tok, now.Add(TokenLifetime)); !errors.Is(err, errTokenExpired) {
		t.Errorf("at expiry: %v; want expired", err)
	}
	if _, err := checkToken(other, tok, now); !errors.Is(err, errTokenInvalid) {
		t.Errorf("another key: %v; want invalid", err)
	}
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range tok {
		for _, c := range []byte{alphabet[0], alphabet[63]} {
			if tok[i] == c {
				continue
			}
			b := []byte(tok)
			b[i] = c
			if got, err := checkToken(key, string(b), now); err == nil {
				t.Errorf("token changed at %d accepted for %s", i, got)
			}
		}
	}
	for _, bad := range []string{"", tok[1:], tok + "A", tok + "==", strings.ToUpper(tok)} {
		if _, err := checkToken(key, bad, now); err == nil {
			t.Errorf("checkToken(%q) accepted", bad)
		}
	}
	if _, err := newToken(key, "xyz", now); err == nil {
		t.Error("newToken accepted a bad certificate id")
	}
}

// FuzzFleetRequest feeds arbitrary payloads to the decoder of each request
// format: it must not panic, and what it decodes must encode and decode
// to the same request.
func FuzzFleetRequest(f *testing.F) {
	f.Add(true, []byte(`{"certificateOwnershipToken":"abc","parameters":{"SerialNumber":"1"}}`))
	f.Add(true, []byte(`{"certificateSigningRequest":"-----BEGIN CERTIFICATE REQUEST-----"}`))
	f.Add(true, []byte(`{}`))
	f.Add(true, []byte(`[]`))
	f.Add(true, []byte(`{"parameters":{"a":1}}`))
	for _, v := range []any{
		registerThingRequest{CertificateOwnershipToken: "abc", Parameters: map[string]string{"SerialNumber": "1"}},
		createFromCSRRequest{CertificateSigningRequest: "x"},
		map[string]any{},
	} {
		b, _ := cbor.Marshal(v)
		f.Add(false, b)
	}
	f.Add(false, []byte{0xa1, 0x61})
	f.Fuzz(func(t *testing.T, isJSON bool, payload []byte) {
		format := formatCBOR
		if isJSON {
			format = formatJSON
		}
		var req registerThingRequest
		if err := decodeRequest(format, payload, &req); err != nil {
			return
		}
		b, err := encodeReply(format, req)
		if err != nil {
			t.Fatalf("encode %+v: %v", req, err)
		}
		var again registerThingRequest
		if err := decodeRequest(format, b, &again); err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
		if fmt.Sprint(req) != fmt.Sprint(again) {
			t.Fatalf("round trip: %+v became %+v", req, again)
		}
		var csr createFromCSRRequest
		_ = decodeRequest(format, payload, &csr)
	})
}

// TestFleetCertificateIDNotFromDevice: the device cannot choose the
// certificate RegisterThing provisions: its AWS::IoT::Certificate::Id
// parameter is replaced by the token's certificate.
func TestFleetCertificateIDNotFromDevice(t *testing.T) {
	e := newFleetEnv(t)
	ctx := context.Background()
	victim, _ := e.create(t, formatJSON, pkitest.NewKey(t, pki.KeyECP256))
	mine, token := e.create(t, formatJSON, pkitest.NewKey(t, pki.KeyECP256))
	topic, body := e.register(t, formatJSON, "fleet", token, map[string]string{"SerialNumber": "5", "AWS::IoT::Certificate::Id": victim})
	if !strings.HasSuffix(topic, acceptedSuffix) {
		t.Fatalf("RegisterThing: %s %q", topic, body)
	}
	if c, _ := e.reg.Certificate(ctx, mine); c.Status != iot.StatusActive {
		t.Errorf("the token's certificate is %s; want ACTIVE", c.Status)
	}
	if c, _ := e.reg.Certificate(ctx, victim); c.Status != iot.StatusPendingActivation {
		t.Errorf("the certificate the device named is %s; want it untouched", c.Status)
	}
}

// failingRegistry fails ProvisionFleetDevice with an internal error.
type failingRegistry struct {
	FleetRegistry
	err error
}

func (r failingRegistry) ProvisionFleetDevice(context.Context, string, registry.ProvisionPlan) (*registry.ProvisionResult, error) {
	return nil, r.err
}

// countingMetrics records the metric's calls.
type countingMetrics struct {
	mu    sync.Mutex
	calls []string
}

func (m *countingMetrics) ProvisioningAttempt(kind, outcome, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, kind+" "+outcome+" "+reason)
}

// TestFleetInternalErrorHidden: an internal failure tells the device only
// that one happened; the log, the metric and the record get the detail.
func TestFleetInternalErrorHidden(t *testing.T) {
	e := newFleetEnv(t)
	var logs strings.Builder
	m := &countingMetrics{}
	e.fleet.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	e.fleet.Metrics = m
	_, token := e.create(t, formatJSON, nil)
	e.fleet.Registry = failingRegistry{FleetRegistry: e.reg, err: errors.New("disk on fire at /var/lib/iotcore")}
	topic, body := e.register(t, formatJSON, "fleet", token, map[string]string{"SerialNumber": "1"})
	var rej rejectedReply
	decode(t, formatJSON, body, &rej)
	if !strings.HasSuffix(topic, rejectedSuffix) || rej != (rejectedReply{500, codeInternalFailure, "An internal error occurred."}) {
		t.Errorf("reply %s %+v", topic, rej)
	}
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the log lacks the detail:\n%s", logs.String())
	}
	if a := e.attempts(t); !strings.Contains(a[0].Reason, "disk on fire") || a[0].Outcome != registry.AttemptFailed {
		t.Errorf("attempt %+v", a[0])
	}
	want := []string{"FLEET_PROVISIONING REGISTERED ", "FLEET_PROVISIONING FAILED provision"}
	if fmt.Sprint(m.calls) != fmt.Sprint(want) {
		t.Errorf("metric calls %q; want %q", m.calls, want)
	}
}

// FuzzFleetHandleRequest publishes arbitrary payloads to every request
// topic: each gets exactly one reply, on accepted or rejected, that decodes
// in the topic's format; a rejection has a known errorCode and status.
func FuzzFleetHandleRequest(f *testing.F) {
	f.Add(0, true, []byte(``))
	f.Add(1, true, []byte(`{"certificateSigningRequest":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"}`))
	f.Add(2, true, []byte(`{"certificateOwnershipToken":"abc","parameters":{"SerialNumber":"1"}}`))
	f.Add(2, false, []byte{0xa1, 0x78, 0x19})
	f.Add(2, true, []byte(`{"certificateOwnershipToken":"","parameters":null}`))
	e := newFleetEnv(f)
	f.Fuzz(func(t *testing.T, op int, isJSON bool, payload []byte) {
		format := formatCBOR
		if isJSON {
			format = formatJSON
		}
		topic := []string{createTopicPrefix, createFromCSRTopicPrefix, templatesTopicPrefix + "fleet/provision/"}[uint(op)%3] + format
		if uint(op)%3 == 0 && len(payload) == 0 {
			return // RSA key generation: slow, and covered elsewhere
		}
		n := 0
		e.fleet.HandleRequest(context.Background(), "fuzz", claimID, topic, payload, func(got string, body []byte) {
			n++
			var v map[string]any
			var err error
			if format == formatCBOR {
				err = cbor.Unmarshal(body, &v)
			} else {
				err = json.Unmarshal(body, &v)
			}
			if err != nil {
				t.Fatalf("reply %q does not decode: %v", body, err)
			}
			switch got {
			case topic + acceptedSuffix:
			case topic + rejectedSuffix:
				code, _ := v["errorCode"].(string)
				if _, ok := fleetErrorStatus[code]; !ok || code == codeInternalFailure {
					t.Fatalf("rejected %v", v)
				}
			default:
				t.Fatalf("reply on %s", got)
			}
		})
		if n != 1 {
			t.Fatalf("%d replies", n)
		}
	})
}

// BenchmarkFleetDevice provisions one device per iteration, as a device
// with a key of its own does: CreateCertificateFromCsr, then RegisterThing,
// on SQLite, with both attempts recorded. Run in parallel it shows the
// service's share of `iotcore bench fleet`.
func BenchmarkFleetDevice(b *testing.B) {
	e := newFleetEnv(b)
	key := pkitest.NewKey(b, pki.KeyECP256)
	csr, err := pki.CreateCSR(key, pkix.Name{CommonName: "device"})
	if err != nil {
		b.Fatal(err)
	}
	create, _ := json.Marshal(createFromCSRRequest{CertificateSigningRequest: pki.EncodeCSRPEM(csr)})
	var serial atomicCounter
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var got createFromCSRAccepted
			e.fleet.HandleRequest(context.Background(), "bench", claimID, createFromCSRTopicPrefix+formatJSON, create, func(topic string, body []byte) {
				_ = json.Unmarshal(body, &got)
			})
			req, _ := json.Marshal(registerThingRequest{CertificateOwnershipToken: got.CertificateOwnershipToken,
				Parameters: map[string]string{"SerialNumber": fmt.Sprint(serial.next())}})
			ok := false
			e.fleet.HandleRequest(context.Background(), "bench", claimID, templatesTopicPrefix+"fleet/provision/json", req, func(topic string, body []byte) {
				ok = strings.HasSuffix(topic, acceptedSuffix)
			})
			if !ok {
				b.Error("RegisterThing rejected")
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "devices/s")
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

// recordingPublisher keeps what is published while someone listens.
type recordingPublisher struct {
	mu        sync.Mutex
	listening bool
	events    []AttemptEvent
}

func (p *recordingPublisher) Subscribed(topic string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listening && topic == FleetAttemptsTopic
}

func (p *recordingPublisher) Publish(topic string, payload []byte, retain bool, qos byte) error {
	var ev AttemptEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, ev)
	return nil
}

// Every fleet request is announced on FleetAttemptsTopic, for operators,
// as JITP attempts are on their CA's topic; nothing is built when nobody
// listens.
func TestFleetAttemptEvents(t *testing.T) {
	e := newFleetEnv(t)
	pub := &recordingPublisher{}
	e.fleet.Events = pub
	_, token := e.create(t, formatJSON, nil) // nobody listens yet
	pub.listening = true
	e.register(t, formatJSON, "fleet", token, map[string]string{"SerialNumber": "7"})
	e.register(t, formatJSON, "no-such-template", token, map[string]string{"SerialNumber": "8"})
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if len(pub.events) != 2 {
		t.Fatalf("%d events, want 2 (none before anyone listened): %+v", len(pub.events), pub.events)
	}
	ok, failed := pub.events[0], pub.events[1]
	if ok.Kind != string(FleetProvisioning) || ok.Outcome != registry.AttemptProvisioned || ok.TemplateName != "fleet" ||
		ok.ThingName != "sensor-7" || ok.ClientID != "client-1" || ok.CertificateStatus != "ACTIVE" {
		t.Errorf("provisioned event %+v", ok)
	}
	if failed.Outcome != registry.AttemptFailed || failed.TemplateName != "no-such-template" || failed.FailedStep == "" || failed.Reason == "" {
		t.Errorf("failed event %+v", failed)
	}
}

// An expired trusted-user claim is deleted with the unclaimed certificates:
// it would otherwise stay in the registry, ACTIVE but useless.
func TestPruneExpiredProvisioningClaims(t *testing.T) {
	e := newFleetEnv(t)
	ctx := context.Background()
	old, err := e.reg.CreateProvisioningClaim(ctx, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	if old.Certificate.ProvisioningClaim != "fleet" || old.Certificate.Status != iot.StatusActive {
		t.Fatalf("claim %+v", old.Certificate)
	}
	e.advance(TokenLifetime + 2*time.Minute)
	fresh, err := e.reg.CreateProvisioningClaim(ctx, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.fleet.PruneUnclaimed(ctx); err != nil || n != 1 {
		t.Fatalf("PruneUnclaimed: %d, %v; want the expired claim", n, err)
	}
	if _, err := e.reg.Certificate(ctx, old.Certificate.ID); !iot.IsCode(err, iot.ResourceNotFound) {
		t.Errorf("the expired claim: %v; want it deleted", err)
	}
	if _, err := e.reg.Certificate(ctx, fresh.Certificate.ID); err != nil {
		t.Errorf("the fresh claim: %v; want it kept", err)
	}
}
