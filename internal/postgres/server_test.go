package postgres_test

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/smithy-go"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/postgres/pgtest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// jitpTemplate provisions a device named by its certificate's CN, allowed
// to connect as itself.
const jitpTemplate = `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},
"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}}},
"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},
"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\"],\"Resource\":[\"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}\"]}]}"}}}}`

func onPostgres(url string) func(*server.Config) {
	return func(c *server.Config) { c.DatabaseURL = url }
}

// connect connects a device with its certificate and the CA's, as the
// seeds' devices do; it returns the CONNACK's error.
func connect(t *testing.T, gw *servertest.Gateway, clientID string, cert tls.Certificate) (paho.Client, error) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker("tls://" + gw.MQTTAddr().String()).SetClientID(clientID).
		SetTLSConfig(&tls.Config{RootCAs: gw.RootCAs, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(20 * time.Second)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(30 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func deviceCert(t *testing.T, ca *pki.Authority, cn string) tls.Certificate {
	cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: cn})
	return tls.Certificate{Certificate: [][]byte{cert.Raw, ca.Certificate.Raw}, PrivateKey: key}
}

func countThingsAndCertificates(t *testing.T, gw *servertest.Gateway) (things, certs int) {
	t.Helper()
	ctx := context.Background()
	th, _, err := gw.Registry.ListThings(ctx, registry.ThingFilter{}, registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := gw.Registry.ListCertificates(ctx, registry.CertificateFilter{}, registry.PageRequest{Size: registry.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return len(th), len(cs)
}

// TestTwoNodesProvisionTheSameDevicesAtOnce: two gateways on one database,
// each device connecting to both at the same moment, make one thing and
// one certificate per device, and every device then connects to either.
func TestTwoNodesProvisionTheSameDevicesAtOnce(t *testing.T) {
	url := pgtest.Database(t)
	a := servertest.Start(t, onPostgres(url))
	b := servertest.Start(t, onPostgres(url))
	ca, _ := a.RegisterJITPCA(t, "Factory CA", jitpTemplate)
	const devices = 8
	certs := make([]tls.Certificate, devices)
	for i := range certs {
		certs[i] = deviceCert(t, ca, fmt.Sprintf("pump-%d", i))
	}
	var wg sync.WaitGroup
	for i, cert := range certs {
		for _, gw := range []*servertest.Gateway{a, b} {
			wg.Go(func() { _, _ = connect(t, gw, fmt.Sprintf("pump-%d", i), cert) }) // dropped: provisioning
		}
	}
	wg.Wait()
	things, n := countThingsAndCertificates(t, b)
	if things != devices || n != devices {
		t.Fatalf("after %d devices provisioned on two nodes at once: %d things, %d certificates", devices, things, n)
	}
	for i, cert := range certs {
		for _, gw := range []*servertest.Gateway{a, b} {
			if _, err := connect(t, gw, fmt.Sprintf("pump-%d", i), cert); err != nil {
				t.Errorf("pump-%d on %s: %v", i, gw.APIURL(), err)
			}
		}
	}
}

// TestGatewaySurvivesPostgresOutage: with PostgreSQL stopped, the API
// answers 503 ServiceUnavailableException, /readyz fails and a device hears
// "server unavailable"; when PostgreSQL is back, all recover by themselves.
func TestGatewaySurvivesPostgresOutage(t *testing.T) {
	pg := pgtest.Start(t)
	gw := servertest.Start(t, onPostgres(pg.NewDatabase(t)))
	ctx := context.Background()
	cert, _ := gw.AllowedEverything(t)
	ready := func() int {
		res, err := http.Get(gw.APIURL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := gw.Client.ListThings(ctx, &iot.ListThingsInput{})
	if code := apiErrorCode(err); code != "ServiceUnavailableException" {
		t.Errorf("ListThings with PostgreSQL down: %v, want ServiceUnavailableException", err)
	}
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz with PostgreSQL down: %d", got)
	}
	if _, err = connect(t, gw, "sensor", cert); !errors.Is(err, packets.ErrorRefusedServerUnavailable) {
		t.Errorf("CONNECT with PostgreSQL down: %v, want server unavailable", err)
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	iottest.WaitFor(t, "the API to answer again", func() bool {
		_, err := gw.Client.ListThings(ctx, &iot.ListThingsInput{})
		return err == nil
	})
	if got := ready(); got != http.StatusOK {
		t.Errorf("/readyz with PostgreSQL back: %d", got)
	}
	if _, err := connect(t, gw, "sensor", cert); err != nil {
		t.Errorf("CONNECT with PostgreSQL back: %v", err)
	}
}

// apiErrorCode is the AWS error code of an SDK error, "" if none.
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
