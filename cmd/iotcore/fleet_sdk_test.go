package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/iottest"
)

// The fleet-provisioning walkthrough of docs/fleet-provisioning.md, whose
// files the test uses as they are: the claim policy, the template (for
// --account-id 123456789012 and --region us-east-1, iotcore's defaults) and
// the device, AWS IoT Device SDK v2 for JavaScript.
const (
	fleetDir         = "../../examples/fleet-provisioning"
	fleetTemplate    = "SensorFleet"
	fleetRoleARN     = "arn:aws:iam::123456789012:role/Provisioning"
	fleetDeviceWait  = 2 * time.Minute  // one run of the device, which bounds each of its waits itself
	fleetNPMWait     = 5 * time.Minute  // npm ci, from the network on a cold cache
	fleetAnswerWait  = "30"             // seconds the device waits for each answer that must come
	fleetSilenceWait = "5"              // seconds it waits for an answer that must not
	fleetRequestWait = 30 * time.Second // one API call
)

// fleetSummary is the JSON line the device prints.
type fleetSummary struct {
	ThingName           string            `json:"thingName"`
	CertificateID       string            `json:"certificateId"`
	DeviceConfiguration map[string]string `json:"deviceConfiguration"`
	Topic               string            `json:"topic"`
	Rejected            string            `json:"rejected"`
	StatusCode          int               `json:"statusCode"`
	ErrorCode           string            `json:"errorCode"`
	ErrorMessage        string            `json:"errorMessage"`
	TimedOut            string            `json:"timedOut"`
	Error               string            `json:"error"`
}

// fleetNode installs the device's npm packages (package-lock.json, with
// `npm ci`) into a directory of the test's, and returns it. Without node
// and npm the test fails in CI and is skipped elsewhere.
func fleetNode(t *testing.T) string {
	t.Helper()
	version := strings.TrimSpace(iottest.NeedProgram(t, "node", "--version"))
	iottest.NeedProgram(t, "npm", "--version")
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < 18 {
		iottest.Missing(t, "node %s: the device needs node 18 or later", version)
	}
	dir := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "provision.js"} {
		data, err := os.ReadFile(filepath.Join(fleetDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), fleetNPMWait)
	defer cancel()
	// aws-crt ships its native binding for linux-x64 and arm64: its install
	// script, which would build one, has nothing to do.
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		iottest.Missing(t, "npm ci (is the npm registry reachable?): %v\n%s", err, out)
	}
	return dir
}

// fleetServer is iotcore serve with the walkthrough's template and claim.
type fleetServer struct {
	*serveProcess
	api       *iot.Client
	node      string // where provision.js and its node_modules are
	claimCert string // files of the claim certificate with the complete claim policy
	claimKey  string
}

// TestFleetProvisioningJSSDK runs AWS's fleet provisioning flow with the AWS
// IoT Device SDK v2 for JavaScript against the real binary: the claim
// certificate and policy, and a FLEET_PROVISIONING template, made with the
// AWS SDK for Go; then the device, with the sample's IotIdentityClient and
// the request-response IotIdentityClientv2, over MQTT 3.1.1 and 5, trading
// the claim for a new key and certificate or for a certificate of its CSR
// (RSA and EC), connecting again as the new thing and publishing. The
// registry must hold what the template says; refusals must leave nothing.
func TestFleetProvisioningJSSDK(t *testing.T) {
	node := fleetNode(t)
	bin := buildBinary(t)
	srv := startServe(t, bin, t.TempDir(), "--account-id", crashAccount, "--region", crashRegion)
	f := &fleetServer{serveProcess: srv, api: srv.client(t), node: node}
	f.claimCert, f.claimKey = f.claim(t, "claim", map[string]string{"ClaimPolicy": f.claimPolicy(t, fleetTemplate)})
	f.template(t, fleetTemplate, true)

	for _, c := range []struct {
		name, api, mqtt string
		key             crypto.Signer // nil: CreateKeysAndCertificate; else CreateCertificateFromCsr
	}{
		{name: "v1-mqtt3-keys", api: "v1", mqtt: "3"},
		{name: "v1-mqtt3-csr-rsa", api: "v1", mqtt: "3", key: fleetRSAKey(t)},
		{name: "v1-mqtt5-keys", api: "v1", mqtt: "5"},
		{name: "v2-mqtt5-keys", api: "v2", mqtt: "5"},
		{name: "v2-mqtt5-csr-ec", api: "v2", mqtt: "5", key: fleetECKey(t)},
		{name: "v2-mqtt3-csr-ec", api: "v2", mqtt: "3", key: fleetECKey(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			serial := "SN-" + c.name
			args := []string{"--api", c.api, "--mqtt", c.mqtt, "--param", "SerialNumber=" + serial}
			if c.key != nil {
				args = append(args, f.csrArgs(t, c.key)...)
			}
			got, code, out := f.device(t, f.claimCert, f.claimKey, fleetTemplate, fleetAnswerWait, args...)
			if code != 0 {
				t.Fatalf("the device exited %d: %+v\n%s", code, got, out)
			}
			wantThing := "sensor-" + serial
			if got.ThingName != wantThing || got.CertificateID == "" || got.Topic != "devices/"+wantThing+"/hello" {
				t.Fatalf("the device's summary = %+v, want thing %s, a certificate and the message on devices/%s/hello\n%s", got, wantThing, wantThing, out)
			}
			if want := map[string]string{"firmwareChannel": "stable", "serialNumber": serial}; !maps.Equal(got.DeviceConfiguration, want) {
				t.Errorf("deviceConfiguration = %v, want %v", got.DeviceConfiguration, want)
			}
			f.checkProvisioned(t, wantThing, serial, got.CertificateID, c.key)
		})
	}

	// A claim whose policy lets it publish the request but not receive the
	// answer gets nothing, as on AWS: AWS's sample waits until it gives up.
	t.Run("claim-policy-without-receive", func(t *testing.T) {
		doc := strings.ReplaceAll(f.claimPolicy(t, fleetTemplate), `["iot:Publish", "iot:Receive"]`, `"iot:Publish"`)
		if !strings.Contains(doc, `"Action": "iot:Publish"`) {
			t.Fatalf("the claim policy's Publish and Receive statement has changed:\n%s", doc)
		}
		cert, key := f.claim(t, "claim-no-receive", map[string]string{"ClaimPolicyNoReceive": doc})
		before := f.pendingCertificates(t)
		got, code, out := f.device(t, cert, key, fleetTemplate, fleetSilenceWait, "--param", "SerialNumber=SN-no-receive")
		if code != 3 || got.TimedOut != "CreateKeysAndCertificate" {
			t.Fatalf("the device exited %d with %+v; want 3, timed out waiting for CreateKeysAndCertificate\n%s", code, got, out)
		}
		// The request was served, as on AWS; only its answer was withheld.
		if after := f.pendingCertificates(t); after != before+1 {
			t.Errorf("PENDING_ACTIVATION certificates: %d before the request, %d after; want one more", before, after)
		}
		f.checkNoThing(t, "sensor-SN-no-receive")
	})

	// RegisterThing without the parameter the thing's name is made of is
	// rejected, and leaves the certificate unregistered.
	t.Run("missing-parameter", func(t *testing.T) {
		got, code, out := f.device(t, f.claimCert, f.claimKey, fleetTemplate, fleetAnswerWait)
		if code != 2 || got.Rejected != "RegisterThing" || got.StatusCode < 400 || got.StatusCode > 499 || got.ErrorCode == "" || got.ErrorMessage == "" {
			t.Fatalf("the device exited %d with %+v; want 2, RegisterThing rejected with a 4xx statusCode, an errorCode and an errorMessage\n%s", code, got, out)
		}
		t.Logf("RegisterThing without SerialNumber: %d %s %q", got.StatusCode, got.ErrorCode, got.ErrorMessage)
		f.checkUnregistered(t, got.CertificateID)
	})

	// RegisterThing with a disabled template is rejected, and the new
	// certificate is left as AWS leaves one that never registered:
	// PENDING_ACTIVATION, with no thing and no policy (or gone).
	t.Run("disabled-template", func(t *testing.T) {
		const name = fleetTemplate + "Disabled"
		f.template(t, name, false)
		cert, key := f.claim(t, "claim-disabled", map[string]string{"ClaimPolicyDisabled": f.claimPolicy(t, name)})
		got, code, out := f.device(t, cert, key, name, fleetAnswerWait, "--param", "SerialNumber=SN-disabled")
		if code != 2 || got.Rejected != "RegisterThing" || got.StatusCode < 400 || got.StatusCode > 499 || got.ErrorCode == "" || got.ErrorMessage == "" {
			t.Fatalf("the device exited %d with %+v; want 2, RegisterThing rejected with a 4xx statusCode, an errorCode and an errorMessage\n%s", code, got, out)
		}
		t.Logf("RegisterThing with a disabled template: %d %s %q", got.StatusCode, got.ErrorCode, got.ErrorMessage)
		f.checkNoThing(t, "sensor-SN-disabled")
		f.checkUnregistered(t, got.CertificateID)
	})
}

// claimPolicy is the walkthrough's claim policy, for the template name.
func (f *fleetServer) claimPolicy(t *testing.T, template string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fleetDir, "claim-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(data), "/provisioning-templates/"+fleetTemplate+"/", "/provisioning-templates/"+template+"/")
	if !strings.Contains(doc, "/provisioning-templates/"+template+"/provision/*") {
		t.Fatalf("claim-policy.json names no provisioning-templates/%s/provision/*", fleetTemplate)
	}
	return doc
}

// claim makes a claim certificate (create-keys-and-certificate
// --set-as-active), creates the policies (name to document) and attaches
// them to it, and writes its certificate and key to files.
func (f *fleetServer) claim(t *testing.T, file string, policies map[string]string) (certFile, keyFile string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), fleetRequestWait)
	defer cancel()
	created, err := f.api.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatalf("create-keys-and-certificate: %v", err)
	}
	for name, doc := range policies {
		if _, err := f.api.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("create-policy %s: %v", name, err)
		}
		if _, err := f.api.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(name), Target: created.CertificateArn}); err != nil {
			t.Fatalf("attach-policy %s: %v", name, err)
		}
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, file+".crt"), filepath.Join(dir, file+".key")
	if err := os.WriteFile(certFile, []byte(aws.ToString(created.CertificatePem)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(aws.ToString(created.KeyPair.PrivateKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// template makes the walkthrough's FLEET_PROVISIONING template as name.
func (f *fleetServer) template(t *testing.T, name string, enabled bool) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(fleetDir, "template.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), fleetRequestWait)
	defer cancel()
	if _, err := f.api.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName:        aws.String(name),
		TemplateBody:        aws.String(string(body)),
		ProvisioningRoleArn: aws.String(fleetRoleARN),
		Type:                types.TemplateTypeFleetProvisioning,
		Enabled:             aws.Bool(enabled),
	}); err != nil {
		t.Fatalf("create-provisioning-template %s: %v", name, err)
	}
}

// csrArgs writes key and a CSR of it, and returns the device's arguments
// for CreateCertificateFromCsr.
func (f *fleetServer) csrArgs(t *testing.T, key crypto.Signer) []string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "fleet device"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	csrFile, keyFile := filepath.Join(dir, "device.csr"), filepath.Join(dir, "device.key")
	if err := os.WriteFile(csrFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--csr", csrFile, "--csr-key", keyFile}
}

func fleetRSAKey(t *testing.T) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fleetECKey(t *testing.T) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// device runs provision.js with the claim against the server, and returns
// its summary, exit code and output.
func (f *fleetServer) device(t *testing.T, certFile, keyFile, template, wait string, args ...string) (fleetSummary, int, string) {
	t.Helper()
	_, port, _ := strings.Cut(f.mqttAddr, ":")
	ctx, cancel := context.WithTimeout(t.Context(), fleetDeviceWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"provision.js",
		"--endpoint", "localhost", "--port", port, "--ca", filepath.Join(f.dataDir, "ca.pem"),
		"--cert", certFile, "--key", keyFile, "--template", template, "--timeout", wait}, args...)...)
	cmd.Dir = f.node
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) && ctx.Err() == nil {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("node provision.js: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stderr.String() + stdout.String()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var s fleetSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("the device exited %d without a JSON summary: %v\n%s", code, err, out)
	}
	return s, code, out
}

// checkProvisioned checks the registry after a device provisioned: the
// thing with its attribute, the certificate ACTIVE, attached to the thing
// and to the template's policy, and for a CSR, of the device's key.
func (f *fleetServer) checkProvisioned(t *testing.T, thing, serial, certID string, key crypto.Signer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), fleetRequestWait)
	defer cancel()
	described, err := f.api.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String(thing)})
	if err != nil {
		t.Fatalf("describe-thing %s: %v", thing, err)
	}
	if got := described.Attributes["serialNumber"]; got != serial {
		t.Errorf("thing %s: attribute serialNumber = %q, want %q", thing, got, serial)
	}
	cert, err := f.api.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(certID)})
	if err != nil {
		t.Fatalf("describe-certificate %s: %v", certID, err)
	}
	desc := cert.CertificateDescription
	if desc.Status != types.CertificateStatusActive {
		t.Errorf("certificate %s: status %s, want ACTIVE", certID, desc.Status)
	}
	if key != nil {
		block, _ := pem.Decode([]byte(aws.ToString(desc.CertificatePem)))
		if block == nil {
			t.Fatalf("certificate %s: no PEM", certID)
		}
		parsed, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("certificate %s: %v", certID, err)
		}
		if pub, ok := parsed.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
			t.Errorf("certificate %s is not of the CSR's key", certID)
		}
	}
	principals, err := f.api.ListThingPrincipals(ctx, &iot.ListThingPrincipalsInput{ThingName: aws.String(thing)})
	if err != nil {
		t.Fatalf("list-thing-principals %s: %v", thing, err)
	}
	if len(principals.Principals) != 1 || principals.Principals[0] != aws.ToString(desc.CertificateArn) {
		t.Errorf("thing %s: principals %v, want [%s]", thing, principals.Principals, aws.ToString(desc.CertificateArn))
	}
	attached, err := f.api.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: desc.CertificateArn})
	if err != nil {
		t.Fatalf("list-attached-policies %s: %v", certID, err)
	}
	if len(attached.Policies) != 1 {
		t.Fatalf("certificate %s: policies %v, want the template's one", certID, policyNames(attached.Policies))
	}
	policy, err := f.api.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: attached.Policies[0].PolicyName})
	if err != nil {
		t.Fatalf("get-policy: %v", err)
	}
	if doc := aws.ToString(policy.PolicyDocument); !strings.Contains(doc, "topic/devices/${iot:Connection.Thing.ThingName}/*") {
		t.Errorf("certificate %s: policy %s is not the template's: %s", certID, aws.ToString(policy.PolicyName), doc)
	}
}

// checkNoThing checks that the thing does not exist.
func (f *fleetServer) checkNoThing(t *testing.T, thing string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), fleetRequestWait)
	defer cancel()
	_, err := f.api.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String(thing)})
	if notFound := (*types.ResourceNotFoundException)(nil); !errors.As(err, &notFound) {
		t.Errorf("describe-thing %s after a failed provisioning: %v, want ResourceNotFoundException", thing, err)
	}
}

// checkUnregistered checks a certificate that never registered: gone, or
// PENDING_ACTIVATION with no thing and no policy.
func (f *fleetServer) checkUnregistered(t *testing.T, certID string) {
	t.Helper()
	if certID == "" {
		t.Fatal("the device named no certificate")
	}
	ctx, cancel := context.WithTimeout(t.Context(), fleetRequestWait)
	defer cancel()
	cert, err := f.api.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(certID)})
	if notFound := (*types.ResourceNotFoundException)(nil); errors.As(err, &notFound) {
		return
	} else if err != nil {
		t.Fatalf("describe-certificate %s: %v", certID, err)
	}
	desc := cert.CertificateDescription
	if desc.Status != types.CertificateStatusPendingActivation {
		t.Errorf("certificate %s: status %s, want PENDING_ACTIVATION", certID, desc.Status)
	}
	things, err := f.api.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: desc.CertificateArn})
	if err != nil {
		t.Fatalf("list-principal-things %s: %v", certID, err)
	}
	attached, err := f.api.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: desc.CertificateArn})
	if err != nil {
		t.Fatalf("list-attached-policies %s: %v", certID, err)
	}
	if len(things.Things) != 0 || len(attached.Policies) != 0 {
		t.Errorf("certificate %s: things %v, policies %v; want none", certID, things.Things, policyNames(attached.Policies))
	}
}

// pendingCertificates counts the PENDING_ACTIVATION certificates.
func (f *fleetServer) pendingCertificates(t *testing.T) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), fleetRequestWait)
	defer cancel()
	n := 0
	pages := iot.NewListCertificatesPaginator(f.api, &iot.ListCertificatesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("list-certificates: %v", err)
		}
		for _, c := range page.Certificates {
			if c.Status == types.CertificateStatusPendingActivation {
				n++
			}
		}
	}
	return n
}

func policyNames(ps []types.Policy) []string {
	var names []string
	for _, p := range ps {
		names = append(names, aws.ToString(p.PolicyName))
	}
	return names
}
