package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/devicesim"
	"github.com/iotcore/iotcore/internal/provision"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// fleetDeviceTemplate is a fleet-provisioning template in the shape of
// AWS's example: the thing named from a parameter, the certificate by the
// id the ownership token names, a policy for the thing, and a device
// configuration.
const fleetDeviceTemplate = `{
  "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
  "Resources": {
    "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::Join": ["", ["sensor-", {"Ref": "SerialNumber"}]]},
      "AttributePayload": {"serial": {"Ref": "SerialNumber"}}}},
    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}},
    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\",\"iot:Publish\"],\"Resource\":\"*\"}]}"}}
  },
  "DeviceConfiguration": {"FallbackUrl": "https://example.com/fallback", "LocationUrl": {"Fn::Join": ["", ["https://example.com/", {"Ref": "SerialNumber"}]]}}
}`

// claimPolicy is AWS's documented claim policy for the template "fleet",
// create-from-csr included.
const claimPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":[
   "arn:aws:iot:us-east-1:123456789012:topic/$aws/certificates/create/*",
   "arn:aws:iot:us-east-1:123456789012:topic/$aws/certificates/create-from-csr/*",
   "arn:aws:iot:us-east-1:123456789012:topic/$aws/provisioning-templates/fleet/provision/*"]},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":[
   "arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/certificates/create/*",
   "arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/certificates/create-from-csr/*",
   "arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/provisioning-templates/fleet/provision/*"]}]}`

// fleetSetup makes a claim certificate with the claim policy and the
// template "fleet", and returns the claim's TLS certificate.
func fleetSetup(t *testing.T, gw *servertest.Gateway, policy string) tls.Certificate {
	t.Helper()
	ctx := context.Background()
	c := gw.Client
	claim := must[*iot.CreateKeysAndCertificateOutput](t)(c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true}))
	must[*iot.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("claim"), PolicyDocument: aws.String(policy)}))
	must[*iot.AttachPolicyOutput](t)(c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("claim"), Target: claim.CertificateArn}))
	must[*iot.CreateProvisioningTemplateOutput](t)(c.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName: aws.String("fleet"), TemplateBody: aws.String(fleetDeviceTemplate), Enabled: aws.Bool(true),
		ProvisioningRoleArn: aws.String("arn:aws:iam::123456789012:role/Provisioning"),
	}))
	cert, err := tls.X509KeyPair([]byte(*claim.CertificatePem), []byte(*claim.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func provisionConfig(t *testing.T, gw *servertest.Gateway, claim tls.Certificate, clientID, serial string, log *bytes.Buffer) devicesim.ProvisionConfig {
	t.Helper()
	var pc devicesim.ProvisionConfig
	pc.Addr, pc.ServerName, pc.RootCAs = gw.MQTTAddr().String(), "localhost", gw.RootCAs
	pc.Certificate = claim // Leaf set by tls.X509KeyPair
	pc.ClientID, pc.QoS, pc.Attempts = clientID, 1, 1
	pc.Template, pc.Parameters, pc.Dir = "fleet", map[string]string{"SerialNumber": serial}, t.TempDir()
	if log != nil {
		pc.Log = log
	}
	return pc
}

// The whole exchange, as a device's firmware runs it, with the simulator:
// CreateKeysAndCertificate, or CreateCertificateFromCsr with a key that
// never leaves the device; RegisterThing; then the device connects with its
// own certificate.
func TestFleetProvisioningByClaim(t *testing.T) {
	gw := servertest.Start(t)
	claim := fleetSetup(t, gw, claimPolicy)
	ctx := context.Background()
	for i, csr := range []bool{false, true} {
		t.Run(fmt.Sprintf("csr=%v", csr), func(t *testing.T) {
			var log bytes.Buffer
			serial := fmt.Sprintf("SN%d", i)
			pc := provisionConfig(t, gw, claim, "claim-"+serial, serial, &log)
			pc.CSR = csr
			res, err := devicesim.Provision(ctx, pc)
			if err != nil {
				t.Fatalf("provision: %v\n%s", err, log.String())
			}
			if res.ThingName != "sensor-"+serial {
				t.Errorf("thing %q, want sensor-%s", res.ThingName, serial)
			}
			if res.DeviceConfiguration["LocationUrl"] != "https://example.com/"+serial || res.DeviceConfiguration["FallbackUrl"] == "" {
				t.Errorf("device configuration %v", res.DeviceConfiguration)
			}
			st, err := os.Stat(res.KeyFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("key file %s: %v, mode %v; want 0600", res.KeyFile, err, st.Mode())
			}
			cert := must[*iot.DescribeCertificateOutput](t)(gw.Client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(res.CertificateID)}))
			if cert.CertificateDescription.Status != types.CertificateStatusActive {
				t.Errorf("certificate %s is %s, want ACTIVE", res.CertificateID, cert.CertificateDescription.Status)
			}
			things := must[*iot.ListPrincipalThingsOutput](t)(gw.Client.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: cert.CertificateDescription.CertificateArn}))
			if len(things.Things) != 1 || things.Things[0] != res.ThingName {
				t.Errorf("certificate attached to %v, want [%s]", things.Things, res.ThingName)
			}
			if !strings.Contains(log.String(), "connected with its own certificate") {
				t.Errorf("the device did not connect with its new certificate:\n%s", log.String())
			}
		})
	}
}

// A claim policy that forgets iot:Receive on the reply topics gets no
// answer, as on AWS; one without iot:Publish on the request topic is
// refused at once.
func TestFleetClaimPolicyEnforced(t *testing.T) {
	gw := servertest.Start(t)
	noReceive := strings.Replace(claimPolicy, `"iot:Publish","iot:Receive"`, `"iot:Publish"`, 1)
	claim := fleetSetup(t, gw, noReceive)
	var log bytes.Buffer
	pc := provisionConfig(t, gw, claim, "claim-1", "1", &log)
	pc.Wait = 2e9 // 2 s: the answer never comes
	_, err := devicesim.Provision(context.Background(), pc)
	var de *devicesim.Error
	if !errors.As(err, &de) || de.Kind != devicesim.NotReceived {
		t.Fatalf("provision with a claim policy lacking iot:Receive: %v, want no answer\n%s", err, log.String())
	}
	// The request was served (a certificate was issued, PENDING_ACTIVATION):
	// only its answer was withheld, and nothing was provisioned.
	pending := 0
	certs := must[*iot.ListCertificatesOutput](t)(gw.Client.ListCertificates(context.Background(), &iot.ListCertificatesInput{}))
	for _, c := range certs.Certificates {
		switch {
		case c.Status == types.CertificateStatusPendingActivation:
			pending++
		case c.Status == types.CertificateStatusActive && *c.CertificateId != certID(claim.Leaf):
			t.Errorf("certificate %s is ACTIVE: something was provisioned", *c.CertificateId)
		}
	}
	if pending != 1 {
		t.Errorf("%d PENDING_ACTIVATION certificates, want the 1 the unanswered request made", pending)
	}
}

// 200 devices provisioning at once with the same claim: each gets its own
// certificate and thing, and the registry holds exactly 200 of each.
func TestFleetConcurrentDevices(t *testing.T) {
	gw := servertest.Start(t, func(c *server.Config) { c.MQTT.ConnectRate, c.FleetRates = -1, provision.UnlimitedFleetRates })
	claim := fleetSetup(t, gw, claimPolicy)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			pc := provisionConfig(t, gw, claim, fmt.Sprintf("claim-%d", i), fmt.Sprintf("%03d", i), nil)
			pc.CSR = true // EC keys made here: the server signs, which is cheap
			pc.Dir = filepath.Join(pc.Dir, "d")
			_ = os.MkdirAll(pc.Dir, 0o700)
			_, errs[i] = devicesim.Provision(context.Background(), pc)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
	}
	ctx := context.Background()
	var things int
	for p := iot.NewListThingsPaginator(gw.Client, &iot.ListThingsInput{}); p.HasMorePages(); {
		out := must[*iot.ListThingsOutput](t)(p.NextPage(ctx))
		things += len(out.Things)
	}
	var active int
	for p := iot.NewListCertificatesPaginator(gw.Client, &iot.ListCertificatesInput{}); p.HasMorePages(); {
		for _, c := range must[*iot.ListCertificatesOutput](t)(p.NextPage(ctx)).Certificates {
			if c.Status == types.CertificateStatusActive {
				active++
			}
		}
	}
	if things != n || active != n+1 { // + the claim
		t.Errorf("%d things and %d ACTIVE certificates, want %d and %d", things, active, n, n+1)
	}
}

// A template's pre-provisioning hook runs through its webhook (--hook-url):
// it sees the request, may override parameters, and a "no" rejects the
// device with nothing created.
func TestFleetPreProvisioningHook(t *testing.T) {
	const hookARN = "arn:aws:lambda:us-east-1:123456789012:function:fleet-hook"
	var (
		mu   sync.Mutex
		seen []map[string]any
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		seen = append(seen, in)
		mu.Unlock()
		params, _ := in["parameters"].(map[string]any)
		if params["SerialNumber"] == "blocked" {
			_, _ = w.Write([]byte(`{"allowProvisioning": false}`))
			return
		}
		_, _ = w.Write([]byte(`{"allowProvisioning": true, "parameterOverrides": {"SerialNumber": "from-hook"}}`))
	}))
	t.Cleanup(hook.Close)
	gw := servertest.Start(t, func(c *server.Config) { c.HookURLs = map[string]string{hookARN: hook.URL} })
	claim := fleetSetup(t, gw, claimPolicy)
	ctx := context.Background()
	must[*iot.UpdateProvisioningTemplateOutput](t)(gw.Client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{
		TemplateName:        aws.String("fleet"),
		PreProvisioningHook: &types.ProvisioningHook{TargetArn: aws.String(hookARN), PayloadVersion: aws.String("2020-04-01")},
	}))

	var log bytes.Buffer
	res, err := devicesim.Provision(ctx, provisionConfig(t, gw, claim, "claim-a", "given", &log))
	if err != nil {
		t.Fatalf("provision: %v\n%s", err, log.String())
	}
	if res.ThingName != "sensor-from-hook" {
		t.Errorf("thing %q, want sensor-from-hook (the hook's override)", res.ThingName)
	}
	mu.Lock()
	first := seen[0]
	mu.Unlock()
	for _, k := range []string{"claimCertificateId", "certificateId", "certificatePem", "templateArn", "clientId"} {
		if first[k] == nil || first[k] == "" {
			t.Errorf("the hook's input lacks %s: %v", k, first)
		}
	}

	before := must[*iot.ListThingsOutput](t)(gw.Client.ListThings(ctx, &iot.ListThingsInput{}))
	log.Reset()
	_, err = devicesim.Provision(ctx, provisionConfig(t, gw, claim, "claim-b", "blocked", &log))
	var de *devicesim.Error
	if !errors.As(err, &de) || de.Kind != devicesim.Refused || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("provision the hook refuses: %v, want rejected\n%s", err, log.String())
	}
	after := must[*iot.ListThingsOutput](t)(gw.Client.ListThings(ctx, &iot.ListThingsInput{}))
	if len(after.Things) != len(before.Things) {
		t.Errorf("%d things after the hook said no, %d before", len(after.Things), len(before.Things))
	}
}

// Provisioning by trusted user: CreateProvisioningClaim gives a claim
// certificate valid 5 minutes that can run fleet provisioning with its
// template, and only with it, without a policy to attach; it is not listed
// by ListCertificates, as on AWS.
func TestFleetProvisioningClaim(t *testing.T) {
	gw := servertest.Start(t)
	fleetSetup(t, gw, claimPolicy) // the template "fleet" (and an ordinary claim, unused)
	ctx := context.Background()
	must[*iot.CreateProvisioningTemplateOutput](t)(gw.Client.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{
		TemplateName: aws.String("other"), TemplateBody: aws.String(fleetDeviceTemplate), Enabled: aws.Bool(true),
		ProvisioningRoleArn: aws.String("arn:aws:iam::123456789012:role/Provisioning"),
	}))
	start := time.Now()
	out := must[*iot.CreateProvisioningClaimOutput](t)(gw.Client.CreateProvisioningClaim(ctx, &iot.CreateProvisioningClaimInput{TemplateName: aws.String("fleet")}))
	if d := out.Expiration.Sub(start); d < 4*time.Minute || d > 6*time.Minute {
		t.Errorf("the claim expires in %v, want 5 minutes", d)
	}
	claim, err := tls.X509KeyPair([]byte(*out.CertificatePem), []byte(*out.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if got := claim.Leaf.NotAfter.Sub(start); got > 6*time.Minute {
		t.Errorf("the claim certificate is valid for %v, want 5 minutes", got)
	}
	for p := iot.NewListCertificatesPaginator(gw.Client, &iot.ListCertificatesInput{}); p.HasMorePages(); {
		for _, c := range must[*iot.ListCertificatesOutput](t)(p.NextPage(ctx)).Certificates {
			if *c.CertificateId == *out.CertificateId {
				t.Error("ListCertificates lists the provisioning claim")
			}
		}
	}
	must[*iot.DescribeCertificateOutput](t)(gw.Client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: out.CertificateId}))

	var log bytes.Buffer
	res, err := devicesim.Provision(ctx, provisionConfig(t, gw, claim, "trusted-1", "T1", &log))
	if err != nil {
		t.Fatalf("provision with the claim: %v\n%s", err, log.String())
	}
	if res.ThingName != "sensor-T1" {
		t.Errorf("thing %q, want sensor-T1", res.ThingName)
	}
	log.Reset()
	pc := provisionConfig(t, gw, claim, "trusted-2", "T2", &log)
	pc.Template = "other"
	_, err = devicesim.Provision(ctx, pc)
	var de *devicesim.Error
	if !errors.As(err, &de) || de.Kind != devicesim.Refused {
		t.Fatalf("provision with the claim on another template: %v, want refused\n%s", err, log.String())
	}
	if _, err := gw.Client.CreateProvisioningClaim(ctx, &iot.CreateProvisioningClaimInput{TemplateName: aws.String("missing")}); err == nil {
		t.Error("a claim for a missing template was made")
	} else {
		wantAPIError(t, err, "ResourceNotFoundException")
	}
}
