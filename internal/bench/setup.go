package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/pki"
)

// API is the part of the AWS IoT API that Setup calls; the AWS SDK for Go
// v2's *iot.Client has it.
type API interface {
	GetRegistrationCode(ctx context.Context, in *iot.GetRegistrationCodeInput, optFns ...func(*iot.Options)) (*iot.GetRegistrationCodeOutput, error)
	RegisterCACertificate(ctx context.Context, in *iot.RegisterCACertificateInput, optFns ...func(*iot.Options)) (*iot.RegisterCACertificateOutput, error)
	UpdateCACertificate(ctx context.Context, in *iot.UpdateCACertificateInput, optFns ...func(*iot.Options)) (*iot.UpdateCACertificateOutput, error)
	CreatePolicy(ctx context.Context, in *iot.CreatePolicyInput, optFns ...func(*iot.Options)) (*iot.CreatePolicyOutput, error)
	AttachPolicy(ctx context.Context, in *iot.AttachPolicyInput, optFns ...func(*iot.Options)) (*iot.AttachPolicyOutput, error)
}

var _ API = (*iot.Client)(nil)

// setupValidity is how long what Setup issues stays valid.
const setupValidity = 30 * 24 * time.Hour

// Fixture is what Setup made on a server for a run: a CA registered for
// just-in-time provisioning with seed 000's kind of template: a thing named
// by the certificate's CN, and a policy that lets the device connect with
// its name, or its name followed by - and anything, as client ID, and
// publish, receive and subscribe under its name/.
type Fixture struct {
	// CA is the registered CA, with its key.
	CA *pki.Authority
	// CAID is its certificate ID.
	CAID string
	// Prefix starts the name of every thing and policy the run creates.
	Prefix string
	// Account and Region are the server's, read from the CA's ARN.
	Account, Region string

	api API
}

// Setup creates a CA and registers it with the API through api: ACTIVE,
// auto-registration enabled, with a JITP template. Every name it and the
// run create starts with prefix.
func Setup(ctx context.Context, api API, prefix string) (*Fixture, error) {
	now := time.Now()
	key, err := pki.GenerateKey(pki.DefaultKeyType)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	ca, err := pki.NewRootCA(pkix.Name{CommonName: prefix + " CA", Organization: []string{"iotcore bench"}}, key, now.Add(-time.Hour), now.Add(setupValidity))
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	code, err := api.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		return nil, fmt.Errorf("setup: get registration code: %w", err)
	}
	verKey, err := pki.GenerateKey(pki.DefaultKeyType)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	ver, err := ca.IssueVerification(verKey.Public(), aws.ToString(code.RegistrationCode), now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	reg, err := api.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{
		CaCertificate:           aws.String(pki.EncodeCertificatePEM(ca.Certificate)),
		VerificationCertificate: aws.String(pki.EncodeCertificatePEM(ver)),
		SetAsActive:             true,
		AllowAutoRegistration:   true,
	})
	if err != nil {
		return nil, fmt.Errorf("setup: register the CA: %w", err)
	}
	f := &Fixture{CA: ca, CAID: aws.ToString(reg.CertificateId), Prefix: prefix, api: api}
	if f.Region, f.Account, err = arnScope(aws.ToString(reg.CertificateArn)); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	// The template names the account and region, known only now.
	if _, err := api.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId: reg.CertificateId,
		RegistrationConfig: &types.RegistrationConfig{
			TemplateBody: aws.String(f.template()),
			RoleArn:      aws.String("arn:aws:iam::" + f.Account + ":role/JITPRole"),
		},
	}); err != nil {
		return nil, fmt.Errorf("setup: attach the JITP template to the CA %s: %w", f.CAID, err)
	}
	return f, nil
}

// arnScope is the region and account of an ARN.
func arnScope(arn string) (region, account string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[3] == "" || parts[4] == "" {
		return "", "", fmt.Errorf("the CA's ARN %q names no region and account", arn)
	}
	return parts[3], parts[4], nil
}

func (f *Fixture) arn(resource string) string {
	return "arn:aws:iot:" + f.Region + ":" + f.Account + ":" + resource
}

// policy is a policy document of statements (effect Allow).
func policy(statements ...map[string]any) string {
	for _, s := range statements {
		s["Effect"] = "Allow"
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements}) // maps of strings: cannot fail
	return string(b)
}

// template is the CA's JITP template. Its policy names the thing by the
// certificate's CN, which the template makes the thing's name, rather than
// by ${iot:Connection.Thing.ThingName} as seed 000 does: AWS defines that
// variable only when the client ID is the thing's name, and the scenarios
// open several connections per device (client IDs <cn>-c0, <cn>-c1...).
func (f *Fixture) template() string {
	const cn = "${iot:Certificate.Subject.CommonName}"
	doc := policy(
		map[string]any{"Action": "iot:Connect", "Resource": []string{f.arn("client/" + cn), f.arn("client/" + cn + "-*")}},
		map[string]any{"Action": []string{"iot:Publish", "iot:Receive"}, "Resource": f.arn("topic/" + cn + "/*")},
		map[string]any{"Action": "iot:Subscribe", "Resource": f.arn("topicfilter/" + cn + "/*")},
	)
	ref := func(p string) map[string]string { return map[string]string{"Ref": "AWS::IoT::Certificate::" + p} }
	b, _ := json.Marshal(map[string]any{
		"Parameters": map[string]any{
			"AWS::IoT::Certificate::CommonName": map[string]string{"Type": "String"},
			"AWS::IoT::Certificate::Id":         map[string]string{"Type": "String"},
		},
		"Resources": map[string]any{
			"thing":       map[string]any{"Type": "AWS::IoT::Thing", "Properties": map[string]any{"ThingName": ref("CommonName")}},
			"certificate": map[string]any{"Type": "AWS::IoT::Certificate", "Properties": map[string]any{"CertificateId": ref("Id"), "Status": "ACTIVE"}},
			"policy":      map[string]any{"Type": "AWS::IoT::Policy", "Properties": map[string]any{"PolicyDocument": doc}},
		},
	})
	return string(b)
}

// Device issues a certificate with CN Prefix-name from the CA and
// provisions it with a first connection, which the server drops (or lets
// through), then checks that the device connects. It returns the device's
// identity (certificate, CA and key).
func (f *Fixture) Device(ctx context.Context, ep Endpoint, name string) (tls.Certificate, error) {
	cn := f.Prefix + "-" + name
	key, err := pki.GenerateKey(pki.DefaultKeyType)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("setup: %w", err)
	}
	now := time.Now()
	cert, err := f.CA.IssueClient(key.Public(), pkix.Name{CommonName: cn}, now.Add(-time.Hour), now.Add(setupValidity))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("setup: %w", err)
	}
	id := tls.Certificate{Certificate: [][]byte{cert.Raw, f.CA.Certificate.Raw}, PrivateKey: key, Leaf: cert}
	tc := ep.TLSConfig(id)
	err = connectOnce(ctx, ep, tc, cn)
	if errors.Is(err, ErrDropped) {
		err = connectOnce(ctx, ep, tc, cn) // the provisioning connection was dropped: this one must pass
	}
	if err != nil {
		return id, fmt.Errorf("setup: device %s was not provisioned: %w", cn, err)
	}
	return id, nil
}

// connectOnce connects as clientID and disconnects.
func connectOnce(ctx context.Context, ep Endpoint, tc *tls.Config, clientID string) error {
	c, err := Dial(ctx, ep, tc)
	if err != nil {
		return err
	}
	if err := c.Connect(clientID); err != nil {
		_ = c.Close()
		return err
	}
	return c.Disconnect()
}

// Admin provisions a device named Prefix-admin and attaches to its
// certificate a policy that lets it connect with any client ID, and
// subscribe to and receive any topic: the subscribers' identity.
func (f *Fixture) Admin(ctx context.Context, ep Endpoint) (tls.Certificate, error) {
	id, err := f.Device(ctx, ep, "admin")
	if err != nil {
		return id, err
	}
	name := f.Prefix + "-admin"
	doc := policy(
		map[string]any{"Action": "iot:Connect", "Resource": f.arn("client/*")},
		map[string]any{"Action": "iot:Subscribe", "Resource": f.arn("topicfilter/*")},
		map[string]any{"Action": "iot:Receive", "Resource": f.arn("topic/*")},
	)
	if _, err := f.api.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
		return id, fmt.Errorf("setup: create the policy %s: %w", name, err)
	}
	target := f.arn("cert/" + pki.CertificateID(id.Leaf.Raw))
	if _, err := f.api.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(name), Target: aws.String(target)}); err != nil {
		return id, fmt.Errorf("setup: attach the policy %s to %s: %w", name, target, err)
	}
	return id, nil
}

// FleetAPI is the part of the AWS IoT API that SetupFleet calls; the AWS
// SDK for Go v2's *iot.Client has it.
type FleetAPI interface {
	CreateCertificateFromCsr(ctx context.Context, in *iot.CreateCertificateFromCsrInput, optFns ...func(*iot.Options)) (*iot.CreateCertificateFromCsrOutput, error)
	CreatePolicy(ctx context.Context, in *iot.CreatePolicyInput, optFns ...func(*iot.Options)) (*iot.CreatePolicyOutput, error)
	AttachPolicy(ctx context.Context, in *iot.AttachPolicyInput, optFns ...func(*iot.Options)) (*iot.AttachPolicyOutput, error)
	CreateProvisioningTemplate(ctx context.Context, in *iot.CreateProvisioningTemplateInput, optFns ...func(*iot.Options)) (*iot.CreateProvisioningTemplateOutput, error)
}

var _ FleetAPI = (*iot.Client)(nil)

// FleetFixture is what SetupFleet made on a server for a fleet run: a
// claim certificate whose policy allows the fleet-provisioning topics of
// one template, and that template.
type FleetFixture struct {
	// Claim is the claim certificate, with its key; ClaimID its ID.
	Claim   tls.Certificate
	ClaimID string
	// Template is the fleet-provisioning template's name: Prefix.
	Template string
	// Parameters are what the run sends RegisterThing: the template names
	// each thing Prefix-<SerialNumber>.
	Parameters map[string]string
	// Prefix starts the name of every thing and policy the run creates.
	Prefix string
	// Account and Region are the server's, read from the claim's ARN.
	Account, Region string
}

// SetupFleet prepares fleet provisioning by claim through api, as AWS's
// guide does: a claim certificate (ACTIVE), a claim policy, Prefix-claim,
// that lets it connect as Prefix-claim-* and use the fleet topics of the
// template Prefix only, and that template: FLEET_PROVISIONING, enabled,
// making a thing Prefix-<SerialNumber>, activating the new certificate, and
// attaching a policy that lets the device connect with its thing's name as
// client ID and publish under it.
//
// The claim's key is an ECDSA P-256 key made here, certified with
// CreateCertificateFromCsr, rather than the RSA key CreateKeysAndCertificate
// would make: every device signs its claim handshake with it, and an
// RSA-2048 signature (about 1 ms) would cost the load generator as much as
// a third of the server's work per device; the jitp devices' keys are
// P-256 too.
func SetupFleet(ctx context.Context, api FleetAPI, prefix string) (*FleetFixture, error) {
	key, err := pki.GenerateKey(pki.KeyECP256)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	csr, err := pki.CreateCSR(key, pkix.Name{CommonName: prefix + "-claim"})
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	claim, err := api.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{
		CertificateSigningRequest: aws.String(pki.EncodeCSRPEM(csr)),
		SetAsActive:               true,
	})
	if err != nil {
		return nil, fmt.Errorf("setup: create the claim certificate: %w", err)
	}
	f := &FleetFixture{
		ClaimID:    aws.ToString(claim.CertificateId),
		Template:   prefix,
		Parameters: map[string]string{"SerialNumber": "{i}"},
		Prefix:     prefix,
	}
	if f.Region, f.Account, err = arnScope(aws.ToString(claim.CertificateArn)); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	chain, err := pki.ParseCertificateChainPEM(aws.ToString(claim.CertificatePem))
	if err != nil {
		return nil, fmt.Errorf("setup: the claim certificate %s: %w", f.ClaimID, err)
	}
	f.Claim = tls.Certificate{Certificate: [][]byte{chain[0].Raw}, PrivateKey: key, Leaf: chain[0]}
	name := prefix + "-claim"
	if _, err := api.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(f.claimPolicy())}); err != nil {
		return nil, fmt.Errorf("setup: create the claim policy %s: %w", name, err)
	}
	if _, err := api.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(name), Target: claim.CertificateArn}); err != nil {
		return nil, fmt.Errorf("setup: attach the policy %s to the claim %s: %w", name, f.ClaimID, err)
	}
	if _, err := api.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName:        aws.String(f.Template),
		Description:         aws.String("iotcore bench fleet"),
		Type:                types.TemplateTypeFleetProvisioning,
		Enabled:             aws.Bool(true),
		ProvisioningRoleArn: aws.String("arn:aws:iam::" + f.Account + ":role/Provisioning"),
		TemplateBody:        aws.String(f.templateBody()),
	}); err != nil {
		return nil, fmt.Errorf("setup: create the provisioning template %s: %w", f.Template, err)
	}
	return f, nil
}

func (f *FleetFixture) arn(resource string) string {
	return "arn:aws:iot:" + f.Region + ":" + f.Account + ":" + resource
}

// claimPolicy is AWS's documented claim policy [AWS 6.1] for the
// template, with create-from-csr (which create/* does not cover), and
// client IDs limited to Prefix-claim-*.
func (f *FleetFixture) claimPolicy() string {
	var topics, filters []string
	for _, t := range []string{"$aws/certificates/create/*", "$aws/certificates/create-from-csr/*", "$aws/provisioning-templates/" + f.Template + "/provision/*"} {
		topics, filters = append(topics, f.arn("topic/"+t)), append(filters, f.arn("topicfilter/"+t))
	}
	return policy(
		map[string]any{"Action": "iot:Connect", "Resource": f.arn("client/" + f.Prefix + "-claim-*")},
		map[string]any{"Action": []string{"iot:Publish", "iot:Receive"}, "Resource": topics},
		map[string]any{"Action": "iot:Subscribe", "Resource": filters},
	)
}

// templateBody is the fleet template. Its policy names the thing by
// ${iot:Connection.Thing.ThingName}, which AWS defines when the client ID
// is the name of a thing attached to the certificate, as the device's
// second connection does; the document is the same for every device, so
// they share one policy (named by its hash).
func (f *FleetFixture) templateBody() string {
	const thing = "${iot:Connection.Thing.ThingName}"
	doc := policy(
		map[string]any{"Action": "iot:Connect", "Resource": f.arn("client/" + thing)},
		map[string]any{"Action": "iot:Publish", "Resource": f.arn("topic/" + thing + "/*")},
	)
	b, _ := json.Marshal(map[string]any{
		"Parameters": map[string]any{
			"SerialNumber":              map[string]string{"Type": "String"},
			"AWS::IoT::Certificate::Id": map[string]string{"Type": "String"},
		},
		"Resources": map[string]any{
			"thing": map[string]any{"Type": "AWS::IoT::Thing", "Properties": map[string]any{
				"ThingName": map[string]any{"Fn::Join": []any{"", []any{f.Prefix + "-", map[string]string{"Ref": "SerialNumber"}}}},
			}},
			"certificate": map[string]any{"Type": "AWS::IoT::Certificate", "Properties": map[string]any{
				"CertificateId": map[string]string{"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE",
			}},
			"policy": map[string]any{"Type": "AWS::IoT::Policy", "Properties": map[string]any{"PolicyDocument": doc}},
		},
	}) // maps of strings: cannot fail
	return string(b)
}
