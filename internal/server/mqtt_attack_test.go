package server_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// jitpTemplate is seed 000's scoped template with this test's account.
const jitpTemplate = `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},` +
	`"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}}},` +
	`"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},` +
	`"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:*/${iot:Connection.Thing.ThingName}*\"}]}"}}}}`

// mqttConnect connects a paho (MQTT 3.1.1) client with the given chain and key.
func (ts *testServer) mqttConnect(t *testing.T, clientID string, key crypto.Signer, chain ...*x509.Certificate) (paho.Client, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ts.RootCA.Certificate)
	cert := tls.Certificate{PrivateKey: key}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	opts := paho.NewClientOptions().
		AddBroker("tls://" + ts.MQTTAddr().String()).
		SetClientID(clientID).
		SetTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4). // no silent fallback to 3.1 after a dropped connection
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(10 * time.Second)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(20 * time.Second) {
		return nil, fmt.Errorf("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

// registryCounts counts what an attacker must not be able to create.
func (ts *testServer) registryCounts(t *testing.T) (certs, things int) {
	t.Helper()
	ctx := context.Background()
	lc := must[*iot.ListCertificatesOutput](t)(ts.client.ListCertificates(ctx, &iot.ListCertificatesInput{PageSize: aws.Int32(250)}))
	lt := must[*iot.ListThingsOutput](t)(ts.client.ListThings(ctx, &iot.ListThingsInput{MaxResults: aws.Int32(250)}))
	return len(lc.Certificates), len(lt.Things)
}

// TestAttackerCertificatesGetNothing checks that no attacker certificate
// connects or registers anything, even against a CA that provisions devices
// on first connection.
func TestAttackerCertificatesGetNothing(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, caID := ts.registerCA(t, "Factory CA", true, true)
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId:      aws.String(caID),
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(jitpTemplate), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
	}))

	// A legitimate device provisions on its first connection and connects on its second.
	devCert, devKey := pkitest.NewClient(t, ca, pkix.Name{CommonName: "device-1"})
	if c, err := ts.mqttConnect(t, "device-1", devKey, devCert, ca.Certificate); err == nil {
		t.Fatalf("the provisioning connection was not dropped (connected: %v)", c.IsConnected())
	}
	if _, err := ts.mqttConnect(t, "device-1", devKey, devCert); err != nil {
		t.Fatalf("the provisioned device cannot connect: %v", err)
	}
	certs0, things0 := ts.registryCounts(t)

	now := time.Now()
	forged := pkitest.NewRoot(t, "Factory CA") // same name, attacker's key
	unregistered := pkitest.NewRoot(t, "Attacker CA")
	issue := func(a *pki.Authority, cn string, notBefore, notAfter time.Time) (*x509.Certificate, crypto.Signer) {
		key := pkitest.NewKey(t, pki.KeyECP256)
		c, err := a.IssueClient(key.Public(), pkix.Name{CommonName: cn}, notBefore, notAfter)
		if err != nil {
			t.Fatal(err)
		}
		return c, key
	}
	selfSigned := func(cn string) (*x509.Certificate, crypto.Signer) {
		key := pkitest.NewKey(t, pki.KeyECP256)
		root, err := pki.NewRootCA(pkix.Name{CommonName: cn}, key, now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return root.Certificate, key
	}
	for _, tc := range []struct {
		name  string
		chain func() ([]*x509.Certificate, crypto.Signer)
	}{
		{"unregistered CA", func() ([]*x509.Certificate, crypto.Signer) {
			c, k := issue(unregistered, "device-2", now.Add(-time.Hour), now.Add(time.Hour))
			return []*x509.Certificate{c, unregistered.Certificate}, k
		}},
		{"forged CA with the registered CA's name", func() ([]*x509.Certificate, crypto.Signer) {
			c, k := issue(forged, "device-3", now.Add(-time.Hour), now.Add(time.Hour))
			return []*x509.Certificate{c, forged.Certificate}, k
		}},
		{"expired, from the registered CA", func() ([]*x509.Certificate, crypto.Signer) {
			c, k := issue(ca, "device-4", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
			return []*x509.Certificate{c, ca.Certificate}, k
		}},
		{"not yet valid, from the registered CA", func() ([]*x509.Certificate, crypto.Signer) {
			c, k := issue(ca, "device-5", now.Add(24*time.Hour), now.Add(48*time.Hour))
			return []*x509.Certificate{c, ca.Certificate}, k
		}},
		{"self-signed with an existing thing's CN", func() ([]*x509.Certificate, crypto.Signer) {
			c, k := selfSigned("device-1")
			return []*x509.Certificate{c}, k
		}},
		{"the registered CA's certificate without its key", func() ([]*x509.Certificate, crypto.Signer) {
			return []*x509.Certificate{ca.Certificate}, pkitest.NewKey(t, pki.KeyECP256)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain, key := tc.chain()
			for _, id := range []string{"device-1", "attacker"} {
				if c, err := ts.mqttConnect(t, id, key, chain...); err == nil {
					c.Disconnect(0)
					t.Fatalf("connected as %s", id)
				}
			}
			if certs, things := ts.registryCounts(t); certs != certs0 || things != things0 {
				t.Fatalf("the attempt registered something: %d certificates (was %d), %d things (was %d)", certs, certs0, things, things0)
			}
		})
	}
}

func certID(c *x509.Certificate) string { return pki.CertificateID(c.Raw) }

func pemOf(c *x509.Certificate) string { return pki.EncodeCertificatePEM(c) }

// observer connects a server-issued certificate with an allow-all policy, as
// the AWS console's test client would.
func (ts *testServer) observer(t *testing.T) paho.Client {
	t.Helper()
	ctx := context.Background()
	kc := must[*iot.CreateKeysAndCertificateOutput](t)(ts.client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true}))
	if _, err := ts.client.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: aws.String("observer")}); err != nil {
		must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("observer"), PolicyDocument: aws.String(allowAll)}))
	}
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("observer"), Target: kc.CertificateArn}))
	cert, err := pki.ParseCertificatePEM(*kc.CertificatePem)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ParsePrivateKeyPEM(*kc.KeyPair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ts.mqttConnect(t, "observer-"+(*kc.CertificateId)[:8], key, cert)
	if err != nil {
		t.Fatalf("observer: %v", err)
	}
	return c
}

// TestFirstConnectionAcceptance checks the opt-in that lets a device
// provisioned just in time stay connected, per CA (a tag) — and that without
// it the first connection is dropped, as on AWS.
func TestFirstConnectionAcceptance(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	ca, caID := ts.registerCA(t, "Factory CA", true, true)
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId:      aws.String(caID),
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(jitpTemplate), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
	}))
	first, firstKey := pkitest.NewClient(t, ca, pkix.Name{CommonName: "dropped-first"})
	if _, err := ts.mqttConnect(t, "dropped-first", firstKey, first, ca.Certificate); err == nil {
		t.Fatal("without the opt-in, the first connection was accepted")
	}
	must[*iot.TagResourceOutput](t)(ts.client.TagResource(ctx, &iot.TagResourceInput{
		ResourceArn: aws.String("arn:aws:iot:us-east-1:123456789012:cacert/" + caID),
		Tags:        []types.Tag{{Key: aws.String("iotcore:jitp-first-connection"), Value: aws.String("accept")}},
	}))
	cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: "welcome"})
	c, err := ts.mqttConnect(t, "welcome", key, cert, ca.Certificate)
	if err != nil {
		t.Fatalf("with the CA's opt-in, the first connection was refused: %v", err)
	}
	if tok := c.Publish("welcome/hello", 1, false, "hi"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish on the first connection: %v", tok.Error())
	}
}
