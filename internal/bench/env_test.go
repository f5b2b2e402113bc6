package bench

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// testTimeout bounds each wait on the server: generous, for -race on a
// loaded two-core machine.
const testTimeout = 30 * time.Second

// env is an iotcore gateway on loopback, an SDK client for its API, and a
// Fixture: a CA registered on it for JITP.
type env struct {
	srv     *server.Server
	api     *iot.Client
	ep      Endpoint
	fixture *Fixture
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with a server configuration changed by configure
// (nil: none).
func newEnvWith(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	var configs []func(*server.Config)
	if configure != nil {
		configs = append(configs, configure)
	}
	gw := servertest.Start(t, configs...)
	e := &env{
		srv: gw.Server,
		api: gw.Client, // signed for another region than the server's, as the seeds do
		ep:  Endpoint{Addr: gw.MQTTAddr().String(), RootCAs: gw.RootCAs, Timeout: testTimeout},
	}
	var err error
	e.fixture, err = Setup(context.Background(), e.api, NewPrefix())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// countThings counts the things whose names start with prefix.
func (e *env) countThings(t *testing.T, prefix string) int {
	t.Helper()
	n := 0
	p := iot.NewListThingsPaginator(e.api, &iot.ListThingsInput{MaxResults: aws.Int32(250)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range out.Things {
			if len(aws.ToString(th.ThingName)) > len(prefix) && aws.ToString(th.ThingName)[:len(prefix)] == prefix {
				n++
			}
		}
	}
	return n
}

// checkLatency checks that a distribution has count samples, in order.
func checkLatency(t *testing.T, name string, l Latency, count int64) {
	t.Helper()
	if l.Count != count {
		t.Errorf("%s: %d samples, want %d", name, l.Count, count)
	}
	if count > 0 && !(0 <= l.Min && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Min <= l.Mean && l.Mean <= l.Max) {
		t.Errorf("%s: %+v is out of order", name, l)
	}
}
