package server_test

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/fxamacker/cbor/v2"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/servertest"
)

// The CBOR topics, as a device with a CBOR codec uses them, through the
// real broker with paho (MQTT 5): the same exchange, CBOR both ways.
func TestFleetProvisioningCBOR(t *testing.T) {
	gw := servertest.Start(t)
	claim := fleetSetup(t, gw, claimPolicy)
	ctx, cancel := context.WithTimeout(context.Background(), iottest.Timeout)
	defer cancel()

	conn, err := tls.Dial("tcp", gw.MQTTAddr().String(), &tls.Config{RootCAs: gw.RootCAs, ServerName: "localhost", Certificates: []tls.Certificate{claim}})
	if err != nil {
		t.Fatal(err)
	}
	replies := make(chan paho.PublishReceived, 4)
	c := paho.NewClient(paho.ClientConfig{
		Conn: packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(p paho.PublishReceived) (bool, error) {
			replies <- p
			return true, nil
		}},
	})
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "cbor-device", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	call := func(topic string, payload []byte) (string, []byte) {
		t.Helper()
		for _, suffix := range []string{"/accepted", "/rejected"} {
			if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic + suffix, QoS: 1}}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload}); err != nil {
			t.Fatal(err)
		}
		p := iottest.Receive(t, replies, "the answer on "+topic)
		return p.Packet.Topic, p.Packet.Payload
	}

	topic, body := call("$aws/certificates/create/cbor", nil)
	var created struct {
		CertificateID             string `cbor:"certificateId"`
		CertificatePEM            string `cbor:"certificatePem"`
		PrivateKey                string `cbor:"privateKey"`
		CertificateOwnershipToken string `cbor:"certificateOwnershipToken"`
	}
	if err := cbor.Unmarshal(body, &created); err != nil || topic != "$aws/certificates/create/cbor/accepted" || created.CertificateOwnershipToken == "" {
		t.Fatalf("CreateKeysAndCertificate in CBOR: %s %x (%v)", topic, body, err)
	}
	request, err := cbor.Marshal(map[string]any{"certificateOwnershipToken": created.CertificateOwnershipToken, "parameters": map[string]string{"SerialNumber": "C1"}})
	if err != nil {
		t.Fatal(err)
	}
	topic, body = call("$aws/provisioning-templates/fleet/provision/cbor", request)
	var registered struct {
		DeviceConfiguration map[string]string `cbor:"deviceConfiguration"`
		ThingName           string            `cbor:"thingName"`
	}
	if err := cbor.Unmarshal(body, &registered); err != nil || topic != "$aws/provisioning-templates/fleet/provision/cbor/accepted" || registered.ThingName != "sensor-C1" {
		t.Fatalf("RegisterThing in CBOR: %s %x (%v)", topic, body, err)
	}
	if registered.DeviceConfiguration["LocationUrl"] != "https://example.com/C1" {
		t.Errorf("device configuration %v", registered.DeviceConfiguration)
	}
	cert := must[*iot.DescribeCertificateOutput](t)(gw.Client.DescribeCertificate(context.Background(), &iot.DescribeCertificateInput{CertificateId: aws.String(created.CertificateID)}))
	if cert.CertificateDescription.Status != types.CertificateStatusActive {
		t.Errorf("certificate %s, want ACTIVE", cert.CertificateDescription.Status)
	}

	// A bad request in CBOR is rejected in CBOR.
	topic, body = call("$aws/provisioning-templates/fleet/provision/cbor", []byte{0xff, 0x00})
	var rejected struct {
		StatusCode int    `cbor:"statusCode"`
		ErrorCode  string `cbor:"errorCode"`
	}
	if err := cbor.Unmarshal(body, &rejected); err != nil || topic != "$aws/provisioning-templates/fleet/provision/cbor/rejected" || rejected.StatusCode != 400 {
		t.Errorf("garbage in CBOR: %s %x (%v)", topic, body, err)
	}
}
