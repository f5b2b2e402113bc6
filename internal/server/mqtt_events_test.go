package server_test

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestPresenceEvents checks the lifecycle events AWS sends on connect and disconnect.
func TestPresenceEvents(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	observer := ts.observer(t)
	events := make(chan paho.Message, 8)
	if tok := observer.Subscribe("$aws/events/presence/#", 1, func(_ paho.Client, m paho.Message) { events <- m }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	kc := must[*iot.CreateKeysAndCertificateOutput](t)(ts.client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true}))
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("observer"), Target: kc.CertificateArn}))
	cert, _ := pki.ParseCertificatePEM(*kc.CertificatePem)
	key, _ := pki.ParsePrivateKeyPEM(*kc.KeyPair.PrivateKey)
	dev, err := ts.mqttConnect(t, "sensor-7", key, cert)
	if err != nil {
		t.Fatal(err)
	}
	dev.Disconnect(100)

	next := func(want string) map[string]any {
		t.Helper()
		for {
			select {
			case m := <-events:
				if !strings.HasSuffix(m.Topic(), "/sensor-7") {
					continue // the observer's own connection
				}
				if m.Topic() != "$aws/events/presence/"+want+"/sensor-7" {
					t.Fatalf("event on %s, want %s", m.Topic(), want)
				}
				var body map[string]any
				if err := json.Unmarshal(m.Payload(), &body); err != nil {
					t.Fatalf("event payload %q: %v", m.Payload(), err)
				}
				return body
			case <-time.After(20 * time.Second):
				t.Fatalf("no %s event", want)
			}
		}
	}
	c := next("connected")
	if c["clientId"] != "sensor-7" || c["eventType"] != "connected" || c["principalIdentifier"] != *kc.CertificateId || c["ipAddress"] != "127.0.0.1" {
		t.Fatalf("connected event: %v", c)
	}
	d := next("disconnected")
	if d["eventType"] != "disconnected" || d["clientInitiatedDisconnect"] != true || d["disconnectReason"] != "CLIENT_INITIATED_DISCONNECT" || d["sessionIdentifier"] != c["sessionIdentifier"] {
		t.Fatalf("disconnected event: %v", d)
	}
}

// TestSeed000Templates provisions a device with each of seed 000's three
// templates and checks what each creates; and a template the certificate
// cannot satisfy leaves only a PENDING_ACTIVATION certificate.
func TestSeed000Templates(t *testing.T) {
	const head = `{ "Parameters" : { "AWS::IoT::Certificate::CommonName" : { "Type" : "String" },"AWS::IoT::Certificate::Country" : { "Type" : "String" }, "AWS::IoT::Certificate::Id" : { "Type" : "String" }}, "Resources" : { "thing" : { "Type" : "AWS::IoT::Thing", "Properties" : { "ThingName" : {"Ref" : "AWS::IoT::Certificate::CommonName"}, "AttributePayload" : { "version" : "v1", "country" : {"Ref" : "AWS::IoT::Certificate::Country"}} } }, "certificate" : { "Type" : "AWS::IoT::Certificate", "Properties" : { "CertificateId": {"Ref" : "AWS::IoT::Certificate::Id"}, "Status" : "ACTIVE" } }, `
	scoped := `{ \"Version\": \"2012-10-17\", \"Statement\": [ { \"Effect\": \"Allow\", \"Action\": [ \"iot:Connect\" ], \"Resource\": [ \"arn:aws:iot:us-east-1:123456789012:client\/${iot:Connection.Thing.ThingName}\" ] }, { \"Effect\": \"Allow\", \"Action\": [ \"iot:Publish\", \"iot:Receive\" ], \"Resource\": [ \"arn:aws:iot:us-east-1:123456789012:topic\/${iot:Connection.Thing.ThingName}\/*\" ] }, { \"Effect\": \"Allow\", \"Action\": [ \"iot:Subscribe\" ], \"Resource\": [ \"arn:aws:iot:us-east-1:123456789012:topicfilter\/${iot:Connection.Thing.ThingName}\/*\" ] } ] }`
	admin := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}`
	for _, tc := range []struct {
		name, policy, wantPolicy string // wantPolicy "" means a generated name
		otherTopicAllowed        bool
	}{
		{"scoped policy", `"policy" : {"Type" : "AWS::IoT::Policy", "Properties" : { "PolicyDocument" : "` + scoped + `" } } } }`, "", false},
		{"admin policy", `"policy" : {"Type" : "AWS::IoT::Policy", "Properties" : { "PolicyDocument" : "` + admin + `" } } } }`, "", true},
		{"named policy", `"policy" :  {"Type" : "AWS::IoT::Policy", "Properties" : { "PolicyName" :  "Policy_Name"} } } }`, "Policy_Name", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			ctx := context.Background()
			ca, caID := ts.registerCA(t, "Device Root CA", true, true)
			if tc.wantPolicy != "" {
				must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(tc.wantPolicy), PolicyDocument: aws.String(allowAll)}))
			}
			must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
				CertificateId:      aws.String(caID),
				RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(head + tc.policy), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
			}))
			// Two devices: the second reuses the first one's policy.
			var policies []string
			for _, cn := range []string{"DemoThing", "DemoThing2"} {
				cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: cn, Country: []string{"IN"}})
				if _, err := ts.mqttConnect(t, cn, key, cert, ca.Certificate); err == nil {
					t.Fatal("the provisioning connection was not dropped")
				}
				c, err := ts.mqttConnect(t, cn, key, cert)
				if err != nil {
					t.Fatalf("%s after provisioning: %v", cn, err)
				}
				th := must[*iot.DescribeThingOutput](t)(ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String(cn)}))
				if th.Attributes["country"] != "IN" || th.Attributes["version"] != "v1" {
					t.Fatalf("thing attributes %v", th.Attributes)
				}
				arn := "arn:aws:iot:us-east-1:123456789012:cert/" + certID(cert)
				ap := must[*iot.ListAttachedPoliciesOutput](t)(ts.client.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(arn)}))
				if len(ap.Policies) != 1 {
					t.Fatalf("attached policies %+v", ap.Policies)
				}
				policies = append(policies, *ap.Policies[0].PolicyName)
				if tok := c.Publish(cn+"/test", 1, false, "Hello"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
					t.Fatalf("publish under %s/: %v", cn, tok.Error())
				}
				c.Publish("other/topic", 1, false, "x").WaitTimeout(5 * time.Second)
				if tc.otherTopicAllowed != c.IsConnectionOpen() {
					t.Fatalf("publishing outside %s/: connection open = %v, want %v", cn, c.IsConnectionOpen(), tc.otherTopicAllowed)
				}
			}
			if policies[0] != policies[1] {
				t.Fatalf("the second device got policy %s, the first %s: want the same", policies[1], policies[0])
			}
			if tc.wantPolicy != "" && policies[0] != tc.wantPolicy {
				t.Fatalf("policy %s, want %s", policies[0], tc.wantPolicy)
			}
			if tc.wantPolicy == "" && len(policies[0]) != 40 {
				t.Fatalf("generated policy name %q, want 40 hex characters", policies[0])
			}

			// A certificate without C cannot satisfy the template: it is left
			// PENDING_ACTIVATION and nothing else is created.
			cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: "NoCountry"})
			if _, err := ts.mqttConnect(t, "NoCountry", key, cert, ca.Certificate); err == nil {
				t.Fatal("a failed provisioning let the device in")
			}
			d := must[*iot.DescribeCertificateOutput](t)(ts.client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(certID(cert))}))
			if d.CertificateDescription.Status != types.CertificateStatusPendingActivation {
				t.Fatalf("status %s, want PENDING_ACTIVATION", d.CertificateDescription.Status)
			}
			if _, err := ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("NoCountry")}); err == nil {
				t.Fatal("a failed provisioning created the thing")
			}
			ap := must[*iot.ListAttachedPoliciesOutput](t)(ts.client.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String("arn:aws:iot:us-east-1:123456789012:cert/" + certID(cert))}))
			if len(ap.Policies) != 0 {
				t.Fatalf("a failed provisioning attached %+v", ap.Policies)
			}
		})
	}
}
