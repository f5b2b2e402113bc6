package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/provision"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// newFleetEnv is a gateway without the connect and publish rate limits
// and a FleetFixture on it.
func newFleetEnv(t *testing.T) (*env, *FleetFixture) {
	t.Helper()
	gw := servertest.Start(t, func(c *server.Config) {
		c.MQTT.ConnectRate, c.MQTT.PublishRate, c.FleetRates = -1, -1, provision.UnlimitedFleetRates
	})
	e := &env{srv: gw.Server, api: gw.Client, ep: Endpoint{Addr: gw.MQTTAddr().String(), RootCAs: gw.RootCAs, Timeout: testTimeout}}
	fx, err := SetupFleet(context.Background(), e.api, NewPrefix())
	if err != nil {
		t.Fatal(err)
	}
	return e, fx
}

// TestFleet provisions devices by claim against a real gateway, with
// CreateKeysAndCertificate and with CSRs, and checks that the summary adds
// up and that the server made a thing for each.
func TestFleet(t *testing.T) {
	e, fx := newFleetEnv(t)
	const devices = 20
	for _, csr := range []bool{false, true} {
		t.Run(fmt.Sprintf("csr=%v", csr), func(t *testing.T) {
			prefix := fmt.Sprintf("%s-csr%v", fx.Prefix, csr)
			s, err := RunFleet(context.Background(), FleetConfig{
				Endpoint: e.ep, Claim: fx.Claim, Template: fx.Template, Devices: devices, Concurrency: 4, CSR: csr,
				Prefix: prefix, ClientID: fx.Prefix + "-claim-{prefix}-{i}", Parameters: map[string]string{"SerialNumber": "{prefix}-{i}"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if s.Provisioned != devices || s.Failed != 0 || len(s.Failures) != 0 || s.Interrupted {
				t.Fatalf("provisioned %d of %d, failed %d: %v", s.Provisioned, devices, s.Failed, s.Failures)
			}
			checkLatency(t, "latency", s.Latency, devices)
			for name, l := range map[string]Latency{
				"connect": s.Steps.Connect, "subscribe": s.Steps.Subscribe, "create": s.Steps.Create,
				"register": s.Steps.Register, "reconnect": s.Steps.Reconnect, "publish": s.Steps.Publish,
			} {
				checkLatency(t, name, l, devices)
				if l.Max > s.Latency.Max {
					t.Errorf("a %s step (max %vms) took longer than a whole provisioning (max %vms)", name, l.Max, s.Latency.Max)
				}
			}
			wantMode, wantKey := "create", ""
			if csr {
				wantMode, wantKey = "csr", "ec-p256"
			}
			if s.Rate <= 0 || s.Elapsed <= 0 || s.Scenario != "fleet" || s.Mode != wantMode || s.KeyType != wantKey || s.Template != fx.Template || s.Endpoint != e.ep.Addr {
				t.Errorf("summary %+v", s)
			}
			// The template names each thing <fixture prefix>-<SerialNumber>.
			if got := e.countThings(t, fx.Prefix+"-"+prefix+"-"); got != devices {
				t.Errorf("the server has %d things named %s-%s-*, want %d", got, fx.Prefix, prefix, devices)
			}
			var text bytes.Buffer
			if err := s.WriteText(&text); err != nil || !strings.Contains(text.String(), "20 of 20 devices provisioned") {
				t.Errorf("text summary: %v\n%s", err, text.String())
			}
		})
	}
}

// TestFleetFailures checks that devices the server does not provision are
// counted as failures, by step and cause, without failing the run.
func TestFleetFailures(t *testing.T) {
	e, fx := newFleetEnv(t)
	t.Run("rejected", func(t *testing.T) {
		// No SerialNumber: RegisterThing is rejected, nothing is made.
		s, err := RunFleet(context.Background(), FleetConfig{
			Endpoint: e.ep, Claim: fx.Claim, Template: fx.Template, Devices: 3, Concurrency: 3,
			Prefix: fx.Prefix + "-r", ClientID: fx.Prefix + "-claim-r{i}", Parameters: map[string]string{"Other": "x"},
		})
		if err != nil {
			t.Fatal(err)
		}
		var rejected int64
		for r, n := range s.Failures {
			if strings.HasPrefix(r, "register: rejected: ") {
				rejected += n
			}
		}
		if s.Provisioned != 0 || s.Failed != 3 || rejected != 3 {
			t.Errorf("provisioned %d, failed %d: %v; want 3 rejected RegisterThing", s.Provisioned, s.Failed, s.Failures)
		}
		checkLatency(t, "latency", s.Latency, 0)
		checkLatency(t, "create", s.Steps.Create, 3)
		checkLatency(t, "register", s.Steps.Register, 0)
	})
	t.Run("publish denied", func(t *testing.T) {
		// Provisioned, then disconnected at a publish outside the thing's topics.
		s, err := RunFleet(context.Background(), FleetConfig{
			Endpoint: e.ep, Claim: fx.Claim, Template: fx.Template, Devices: 2, Concurrency: 2,
			Prefix: fx.Prefix + "-p", ClientID: fx.Prefix + "-claim-p{i}", Parameters: map[string]string{"SerialNumber": "p{i}"}, Topic: "elsewhere/{thing}",
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.Provisioned != 0 || s.Failed != 2 || s.Failures["publish: connection closed"] != 2 {
			t.Errorf("provisioned %d, failed %d: %v; want 2 failed publishes", s.Provisioned, s.Failed, s.Failures)
		}
		checkLatency(t, "reconnect", s.Steps.Reconnect, 2)
	})
}
