package server_test

import (
	"context"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// seed002Policy is seed 002's templates/policy.json, for this test's account and region.
const seed002Policy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}/*"]},
 {"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/${iot:Connection.Thing.ThingName}/*"]}]}`

// seed002Template is seed 002's templateBody: the policy by name.
const seed002Template = `{ "Parameters" : { "AWS::IoT::Certificate::CommonName": { "Type": "String" }, "AWS::IoT::Certificate::SerialNumber": {  "Type": "String" }, "AWS::IoT::Certificate::Id": { "Type": "String" } }, "Resources": { "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"  }, "AttributePayload": {} }}, "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": {"Ref": "AWS::IoT::Certificate::Id" }, "Status": "ACTIVE" }}, "policy": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "lamassu-test-policy" } }}}`

// waitFor polls cond until it holds, or fails the test.
func waitFor(t *testing.T, what string, cond func() bool) { t.Helper(); iottest.WaitFor(t, what, cond) }

// TestSeed002NamedPolicyWithGoPaho runs seed 002: the policy is created first
// and the template refers to it by name; the CA's template is set with
// update-ca-certificate; the device is a Go paho client whose client id and
// topics follow its CN.
func TestSeed002NamedPolicyWithGoPaho(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, caID := ts.registerCA(t, "testCAName", true, false)
	must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("lamassu-test-policy"), PolicyDocument: aws.String(seed002Policy)}))
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId: aws.String(caID), NewAutoRegistrationStatus: types.AutoRegistrationStatusEnable,
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(seed002Template), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
	}))
	subject := pkix.Name{Country: []string{"ES"}, Province: []string{"Gipuzkoa"}, Locality: []string{"Arrasate"},
		Organization: []string{"testCAName"}, OrganizationalUnit: []string{"Lamassu"}, CommonName: "demodev"}
	cert, key := pkitest.NewClient(t, ca, subject)
	if _, err := ts.mqttConnect(t, "demodev", key, cert, ca.Certificate); err == nil {
		t.Fatal("the provisioning connection was not dropped")
	}
	c, err := ts.mqttConnect(t, "demodev", key, cert, ca.Certificate)
	if err != nil {
		t.Fatalf("second connection: %v", err)
	}
	got := make(chan string, 4)
	if tok := c.Subscribe("demodev/#", 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() + " " + string(m.Payload()) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if tok := c.Publish("demodev/hello", 1, false, "hola"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	select {
	case m := <-got:
		if m != "demodev/hello hola" {
			t.Fatalf("received %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the device did not receive its own message")
	}
	pols := must[*iot.ListAttachedPoliciesOutput](t)(ts.client.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String("arn:aws:iot:us-east-1:123456789012:cert/" + certID(cert))}))
	if len(pols.Policies) != 1 || *pols.Policies[0].PolicyName != "lamassu-test-policy" {
		t.Fatalf("attached policies: %+v", pols.Policies)
	}

	// Publishing outside demodev/ closes an MQTT 3.1.1 connection (AWS).
	c.Publish("elsewhere/hello", 1, false, "x").WaitTimeout(5 * time.Second)
	waitFor(t, "the connection to close after a denied publish", func() bool { return !c.IsConnectionOpen() })
}

// TestLiveConnectionsFollowRegistryChanges checks that a policy's new default
// version, a detached policy and a deactivated certificate apply to a live
// connection at once.
func TestLiveConnectionsFollowRegistryChanges(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, _ := ts.registerCA(t, "Root", true, false)
	cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: "sensor"})
	reg := must[*iot.RegisterCertificateOutput](t)(ts.client.RegisterCertificate(ctx, &iot.RegisterCertificateInput{
		CertificatePem: aws.String(pemOf(cert)), Status: types.CertificateStatusActive,
	}))
	doc := func(topic string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Subscribe","iot:Receive","iot:Publish"],"Resource":[` +
			`"arn:aws:iot:us-east-1:123456789012:client/sensor","arn:aws:iot:us-east-1:123456789012:topicfilter/` + topic + `","arn:aws:iot:us-east-1:123456789012:topic/` + topic + `"]}]}`
	}
	must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(doc("a"))}))
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p"), Target: reg.CertificateArn}))

	c, err := ts.mqttConnect(t, "sensor", key, cert)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 16)
	handler := func(_ paho.Client, m paho.Message) { got <- m.Topic() }
	for _, topic := range []string{"a", "b"} {
		c.Subscribe(topic, 0, handler).WaitTimeout(10 * time.Second)
	}
	// Only "a" is allowed: publish to both through an observer with full rights.
	observer := ts.observer(t)
	deliver := func(topic string) {
		observer.Publish(topic, 1, false, "x").WaitTimeout(10 * time.Second)
	}
	deliver("b")
	deliver("a")
	if m := iottest.Receive(t, got, "a delivery"); m != "a" {
		t.Fatalf("received %q, want only a", m)
	}
	// A new default version that allows b instead: b is subscribed (subscribe again) and received, a no longer.
	must[*iot.CreatePolicyVersionOutput](t)(ts.client.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(doc("b")), SetAsDefault: true}))
	c.Subscribe("b", 0, handler).WaitTimeout(10 * time.Second)
	deliver("a")
	deliver("b")
	if m := iottest.Receive(t, got, "a delivery after the new version"); m != "b" {
		t.Fatalf("after the new version, received %q, want b", m)
	}
	// Deactivating the certificate disconnects at once.
	must[*iot.UpdateCertificateOutput](t)(ts.client.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: reg.CertificateId, NewStatus: types.CertificateStatusInactive}))
	waitFor(t, "the INACTIVE certificate's connection to close", func() bool { return !c.IsConnectionOpen() })
	if _, err := ts.mqttConnect(t, "sensor", key, cert); err == nil {
		t.Fatal("an INACTIVE certificate connected")
	}
	select {
	case m := <-got:
		if strings.HasPrefix(m, "a") {
			t.Fatalf("received %q after the policy stopped allowing it", m)
		}
	default:
	}
}
